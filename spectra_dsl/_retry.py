"""Calling one step under its ``timeout=`` and ``Retry`` policy, on trio's clock."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from . import events as ev
from ._control import Retry
from ._errors import StepTimeout

#: Logs one event: ``emit(EventClass, *fields)``.
Emit = Callable[..., None]


async def call_with_retries(
    call: Callable[[], Awaitable[Any]], *, step: str, retry: Retry | None,
    timeout: float | None, emit: Emit, scope: tuple[str, ...],
) -> Any:
    """Await ``call()``; bound each attempt by ``timeout``; retry as ``retry`` says.

    A timed-out attempt raises :class:`StepTimeout` and is retried like an exception
    in ``retry.on``.  Cancellation is no ``Exception``, so it is never retried.  The
    last failure is raised as it is.
    """
    attempt = 1
    while True:
        error: Exception
        try:
            if timeout is None:
                return await call()
            with trio.move_on_after(timeout) as deadline:
                return await call()
        except Exception as exc:
            error = exc
        else:
            assert deadline.cancelled_caught
            emit(ev.StepTimedOut, trio.current_time(), step, attempt, timeout, scope)
            error = StepTimeout(step, attempt, timeout)
        if (retry is None or attempt >= retry.attempts
                or not isinstance(error, (StepTimeout, *retry.on))):
            raise error
        delay = retry.delay(attempt)
        if retry.jitter:
            delay += random.uniform(0, retry.jitter * delay)
        attempt += 1
        emit(ev.RetryAttempt, trio.current_time(), step, attempt, delay, error, scope)
        await trio.sleep(delay)
