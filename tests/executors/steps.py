"""Module-level steps for the executor tests: worker processes import them by name."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def count_primes(chunk: tuple[int, int]) -> int:
    """How many primes lie in [start, stop): a pure Python loop (CPU-bound)."""
    start, stop = chunk
    found = 0
    for n in range(max(start, 2), stop):
        d = 2
        while d * d <= n:
            if n % d == 0:
                break
            d += 1
        else:
            found += 1
    return found


def whoami(x: int) -> tuple[int, int]:
    """The value and the id of the process that ran it."""
    return x, os.getpid()


def square(x: int) -> int:
    return x * x


class Refused(ValueError):
    """An exception of the step's own, which must come back as itself."""


def refuse(x: int) -> int:
    raise Refused(f"no {x}")


def give_lock(x: int) -> object:
    """A result that cannot be pickled back."""
    return threading.Lock()


def die(x: int) -> int:
    """Kill the worker process running this call."""
    os._exit(3)


def spin(marker: str, x: int) -> int:
    """Write this process's id to ``marker/x.pid``, then loop for ever (until killed)."""
    Path(marker, f"{x}.pid").write_text(str(os.getpid()))
    while True:
        pass


def slow_then_mark(marker: str, seconds: float) -> str:
    """Sleep on the worker, then leave ``marker/done``: proof that the call ran out."""
    Path(marker, "started").write_text(str(os.getpid()))
    time.sleep(seconds)
    Path(marker, "done").write_text("done")
    return "late"


def killed_once(marker: str, x: int) -> int:
    """The first call anywhere records its process and hangs (the test kills that
    worker); any later call returns at once."""
    first = Path(marker, "first.pid")
    try:
        with first.open("x") as handle:
            handle.write(str(os.getpid()))
    except FileExistsError:
        return x * 10
    time.sleep(60)
    return -1
