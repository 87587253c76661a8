"""Benchmarks with their baselines, run on demand (`./dev bench [name]`), never in the test pass."""
