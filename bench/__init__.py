"""Benchmarks: scripts that measure and write docs/benchmarks.md; never imported by the service."""
