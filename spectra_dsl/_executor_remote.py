"""What crosses to another process: a step call packed by pickle, and its outcome.

The parent packs ``(fn, kwargs)`` itself (:func:`pack_call`), so a value that cannot be
pickled fails that step with a message naming the step and the parameter.  The worker
runs :func:`remote_call` (a module-level function, found by reference by trio-parallel
and by Dask alike): it unpacks the call, runs the step, and packs the outcome.  The
step's own exception comes back as itself (so ``retry=Retry(on=...)`` sees its class),
with the worker's traceback added as a note; a result that cannot be pickled, or a call
that cannot be loaded on the worker, comes back as a message the parent turns into an
:class:`ExecutorError` naming the step.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable
from typing import Any

#: Outcome tags (the first element of an unpacked outcome).
VALUE, RAISED, BROKEN = "value", "raised", "broken"

PROTOCOL = pickle.HIGHEST_PROTOCOL


def remote_call(payload: bytes) -> bytes:
    """Run a packed step call in this (worker) process and pack its outcome."""
    try:
        fn, kwargs = pickle.loads(payload)
    except Exception as error:
        return _pack(BROKEN, f"the call could not be loaded on the worker: "
                             f"{type(error).__name__}: {error} (is the module that defines "
                             "the step installed there?)")
    try:
        value = fn(**kwargs)
    except Exception as error:
        where = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        try:
            return pickle.dumps((RAISED, error, where), protocol=PROTOCOL)
        except Exception:
            return _pack(BROKEN, f"it raised {type(error).__name__}: {error} (an exception "
                                 f"that cannot be pickled back)\n{where}")
    try:
        return pickle.dumps((VALUE, value), protocol=PROTOCOL)
    except Exception as error:
        return _pack(BROKEN, f"its result ({type(value).__name__}) cannot be pickled back: "
                             f"{type(error).__name__}: {error}; return plain data (lists, "
                             "dicts, numbers, strings, dataclasses at module level)")


def _pack(tag: str, message: str) -> bytes:
    return pickle.dumps((tag, message), protocol=PROTOCOL)


def pack_call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> bytes | str:
    """Pickle a call to send it; on failure, a message naming what could not be pickled."""
    try:
        return pickle.dumps((fn, kwargs), protocol=PROTOCOL)
    except Exception as error:
        for name, value in kwargs.items():
            try:
                pickle.dumps(value, protocol=PROTOCOL)
            except Exception as inner:
                return (f"its argument '{name}' ({type(value).__name__}) cannot be pickled: "
                        f"{type(inner).__name__}: {inner}")
        return f"the call cannot be pickled: {type(error).__name__}: {error}"


def unpack_outcome(data: bytes) -> tuple[str, Any]:
    """Unpickle an outcome: ``(VALUE, value)``, ``(RAISED, exception)`` or
    ``(BROKEN, message)``."""
    try:
        outcome = pickle.loads(data)
    except Exception as error:
        return BROKEN, (f"its result could not be unpickled here: "
                        f"{type(error).__name__}: {error}")
    if outcome[0] == RAISED:
        _, raised, where = outcome
        add_note = getattr(raised, "add_note", None)
        if add_note is not None:  # Python 3.11+
            add_note(f"raised in the worker process:\n{where}")
        return RAISED, raised
    tag, payload = outcome
    return tag, payload
