"""Benchmarks: speed measurements that print ratios against the references they name."""
