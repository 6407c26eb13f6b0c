"""Benchmarks: start-up, responsiveness, wire overhead, memory and package size against floors.

Not part of the test run (pytest's norecursedirs skips every directory called `benchmarks`) and
never a pass/fail gate: run `scripts/bench` (or `python -m tests.benchmarks`), read the table,
and find the figures in build/benchmarks/results.json.
"""
