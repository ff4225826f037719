"""Missing slices and missing time points (cheap to import: torch is loaded where used)."""
