"""The events of durable runs (also exported from :mod:`spectra_dsl.events`)."""

from __future__ import annotations

import attrs

from .events import Event


@attrs.frozen
class RunResumed(Event):
    """A stored run was resumed: ``restored`` step records will be read back instead of
    calling their steps; ``rerun`` steps had their records dropped (``rerun=`` or
    ``on_code_change="rerun"``); ``answers`` names the asks answered by this resume."""

    workflow: str
    run_id: str
    restored: int
    rerun: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepRestored(Event):
    """``step`` was not called: its record was read back from the store.  ``status`` is
    ``"finished"`` (its value was written again), ``"answered"`` (an ask's stored or
    newly given answer) or ``"asked"`` (an ask still waiting for its answer)."""

    step: str
    status: str = "finished"
    scope: tuple[str, ...] = ()
    item: int | None = None


@attrs.frozen
class StepAsked(Event):
    """An ask step returned its question (``payload``); its readers wait for the
    answer (from ``on_ask``, or from a later ``plan.resume(..., answers=...)``)."""

    step: str
    payload: object = attrs.field(default=None, repr=False)
    scope: tuple[str, ...] = ()
