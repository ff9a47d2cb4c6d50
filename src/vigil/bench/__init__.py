"""Benchmarks and the synthetic data they (and the tests) run on: never imported by product code.

`vigil bench …` (cli/bench.py) loads these lazily; the top-level `bench/` holds the scripts
that repeat them. Keeping them here, outside the product packages, means a reader of
`search/` or `store/` sees only what a deployment runs.
"""
