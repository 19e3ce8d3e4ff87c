"""Benchmarks: make bench / make bench-full. Results in docs/BENCHMARKS.md."""
