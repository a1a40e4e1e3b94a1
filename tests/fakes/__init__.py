"""In-memory implementations of the service's store protocols, for tests whose point is the
logic above a store rather than the database (each is held to the real one by a contract test)."""
