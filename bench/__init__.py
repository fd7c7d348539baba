"""Benchmarks: every figure printed beside a baseline measured in the same run."""
