"""The events of durable runs, defined in :mod:`spectra_dsl.events` (kept importable
from here)."""

from __future__ import annotations

from .events import RunResumed as RunResumed
from .events import StepAsked as StepAsked
from .events import StepRestored as StepRestored
