"""Benchmark scripts; their figures go in the README."""
