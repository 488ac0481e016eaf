"""Benchmarks behind ``unpaired-bench``: every speed claim is a measurement you can repeat."""
