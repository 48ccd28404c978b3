"""Calling one step under its ``timeout=`` and ``Retry`` policy, on trio's clock."""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

from ._ask import ATTEMPT
from ._control import Retry
from ._errors import StepTimeout

if TYPE_CHECKING:
    from ._emit import Emitter


async def call_with_retries(
    call: Callable[[], Awaitable[Any]], *, step: str, retry: Retry | None,
    timeout: float | None, emit: Emitter, item: int | None = None,
) -> Any:
    """Await ``call()``; bound each attempt by ``timeout``; retry as ``retry`` says.

    A timed-out attempt raises :class:`StepTimeout` and is retried like an exception
    in ``retry.on``.  ``item`` is the element, for one call of a mapped step (on
    its events).  Cancellation is no ``Exception``, so it is never retried.  The
    last failure is raised as it is.
    """
    attempt = 1
    while True:
        error: Exception
        token = ATTEMPT.set(attempt)  # what current_step() tells the call
        try:
            if timeout is None:
                return await call()
            with trio.move_on_after(timeout) as deadline:
                return await call()
        except Exception as exc:
            error = exc
        else:
            assert deadline.cancelled_caught
            emit.step_timed_out(time=trio.current_time(), step=step, attempt=attempt,
                                timeout=timeout, item=item)
            error = StepTimeout(step, attempt, timeout)
        finally:
            ATTEMPT.reset(token)
        if (retry is None or attempt >= retry.attempts
                or not isinstance(error, (StepTimeout, *retry.on))):
            raise error
        delay = backoff_delay(retry, attempt)
        if retry.jitter:
            delay += random.uniform(0, retry.jitter * delay)
        attempt += 1
        emit.retry_attempt(time=trio.current_time(), step=step, attempt=attempt, delay=delay,
                           error=error, item=item)
        await trio.sleep(delay)


def backoff_delay(retry: Retry, attempt: int) -> float:
    """``backoff * factor ** (attempt - 1)`` without overflowing: 0 when ``backoff`` is
    0 (however many attempts), infinity past the largest float."""
    if not retry.backoff:
        return 0.0
    try:
        return retry.delay(attempt)
    except OverflowError:
        return math.inf
