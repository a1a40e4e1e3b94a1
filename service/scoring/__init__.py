"""Pure scoring functions over domain values with an explicit `as_of` (no clock, settings or I/O)."""
