"""Asking a person, and knowing which step call is running.

``Ask(payload)`` is what an ``@step(ask=True)`` step returns: the question.  Its
readers get the answer, given by ``on_ask=`` in the same process or by
``plan.resume(run_id, store=..., answers={...})`` later.

``current_step()`` tells a running step who it is: run id, scope, step, item, attempt
and a stable ``key`` to pass as an idempotency key to outside services.
"""

from __future__ import annotations

import contextvars
from typing import Any, Generic, TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen
class Ask(Generic[T]):
    """The question an ``@step(ask=True)`` step returns: ``return Ask({"draft": d})``.

    ``payload`` is anything the person (or ``on_ask``) needs to answer; with a store it
    is stored, so it must be storable by the store's codec.  Annotate the step as
    returning ``Ask[AnswerType]``: its readers get the answer, of ``AnswerType``.
    """

    payload: Any = None


@attrs.frozen
class CurrentStep:
    """The step call running in this task: what :func:`current_step` returns.

    ``run_id`` is ``None`` in a run with no store.  ``scope`` is the path of
    sub-workflow steps the call is inside, ``item`` the element index of a mapped call,
    ``attempt`` counts tries from 1.  ``key`` is stable across attempts and resumes of
    the same call.
    """

    run_id: str | None
    scope: tuple[str, ...]
    step: str
    item: int | None = None
    attempt: int = 1

    @property
    def key(self) -> str:
        """``{run_id}/{scope}/{step}[item]``: the same for every attempt and every
        resume of this call (pass it as an idempotency key to outside services)."""
        path = "/".join((self.run_id or "-", *self.scope, self.step))
        return path if self.item is None else f"{path}[{self.item}]"


#: The step call running: (run_id, scope, step, item), made into a CurrentStep on demand.
CURRENT: contextvars.ContextVar[tuple[str | None, tuple[str, ...], str, int | None] | None] = (
    contextvars.ContextVar("spectra_current_step", default=None))


#: The try of the step call running in this task (1 for the first), set by the retry loop.
ATTEMPT: contextvars.ContextVar[int] = contextvars.ContextVar("spectra_attempt", default=1)


def current_step() -> CurrentStep:
    """The step call running in this task (its run id, scope, step, item, attempt and
    stable ``key``).  Raises ``LookupError`` outside a step of a run with a store or
    ``on_ask=`` (a plain run does not track it)."""
    found = CURRENT.get()
    if found is None:
        raise LookupError(
            "current_step() was called outside a step of a durable run: call it from "
            "inside a step function while its workflow runs with store= (or on_ask=)")
    return CurrentStep(*found, attempt=ATTEMPT.get())


def set_current(step: tuple[str | None, tuple[str, ...], str, int | None]) -> None:
    """Make ``step`` (run id, scope, step, item) what :func:`current_step` tells."""
    CURRENT.set(step)
