"""Benchmarks: run against a live server, print ratios against a baseline from the same run."""
