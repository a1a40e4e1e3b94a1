"""Request and response bodies of the API routes that need more than a few fields."""
