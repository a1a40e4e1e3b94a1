"""Pure scoring over domain values with an explicit `as_of` (no clock, settings or I/O)."""
