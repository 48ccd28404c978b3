"""Runnable examples of the seed's parallel patterns (imported by tests/test_examples.py)."""
