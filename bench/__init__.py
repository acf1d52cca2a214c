"""Benchmarks: each script prints a table; the figures and their commands are in RESULTS.md."""
