"""Runnable examples: the four parallel patterns of the "Parallel Execution" page of Spectra
(a .NET workflow library), and three of control flow (imported by tests/test_examples.py)."""
