"""Benchmarks, apart from the tests: each compares alternatives side by side in one run and writes its
numbers to bench/results/."""
