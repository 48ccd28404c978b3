"""Shared pytest configuration.

The tests are grouped by subject: ``runner/`` (scheduling, failures, control flow),
``compiler/`` (checks and diagnostics), ``lint/`` (spectra-lint); the ones at the top
cover the public API, the examples and the benchmarks.  Shared helpers live in
:mod:`tests.helpers` (one virtual-clock runner) and hypothesis strategies in
:mod:`tests.strategies`.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Property tests build and run whole workflows: a per-example deadline would only
# measure how busy the machine is.  Each test sets its own example count.
settings.register_profile(
    "spectra", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("spectra")
