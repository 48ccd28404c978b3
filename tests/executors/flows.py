"""Module-level workflows whose steps name executors (worker processes import the
steps by name, so they live here, not inside the tests)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from spectra_dsl import Join, Retry, Workflow, step

from . import steps


@step
def ranges(limit: int, pieces: int) -> list[tuple[int, int]]:
    size = -(-limit // pieces)
    return [(lo, min(lo + size, limit)) for lo in range(0, limit, size)]


@step(map="ranges", executor="cpu")
def primes(ranges: tuple[int, int]) -> int:
    return steps.count_primes(ranges)


@step
def total(primes: list[int]) -> int:
    return sum(primes)


def prime_count() -> Workflow:
    """ranges -> primes (mapped, executor 'cpu') -> total."""
    return Workflow("prime-count", steps=[ranges, primes, total])


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step(map="numbers", executor="cpu")
def placed(numbers: int) -> tuple[int, int]:
    """The element squared, and the process it ran in."""
    return numbers * numbers, os.getpid()


@step(map="numbers", executor="cpu")
def squares(numbers: int) -> int:
    return numbers * numbers


@step
def squares_sum(squares: list[int]) -> int:
    return sum(squares)


def mapped_squares() -> Workflow:
    """numbers -> squares (mapped, executor 'cpu') -> squares_sum."""
    return Workflow("mapped-squares", steps=[numbers, squares, squares_sum])


def placed_squares() -> Workflow:
    """numbers -> placed (mapped, executor 'cpu'): where each element ran."""
    return Workflow("placed-squares", steps=[numbers, placed])


@step(executor="cpu")
def left(x: int) -> int:
    return x + 1


@step(executor="cpu")
def right(x: int) -> int:
    return x * 2


@step(join=Join.ALL)
def both(left: int, right: int) -> int:
    return left + right


def diamond() -> Workflow:
    """left and right on executor 'cpu', their join in a thread."""
    return Workflow("diamond", steps=[left, right, both])


def nested() -> Workflow:
    """The diamond as a sub-workflow of another."""
    outer = Workflow("outer")
    outer.add(diamond(), name="inner", writes=("both",))
    return outer


@step(executor="cpu")
def spinning(marker: str) -> int:
    """Record this process, then compute for ever (until its worker is killed)."""
    return steps.spin(marker, os.getpid())


@step
def fails_soon(marker: str) -> int:
    """Fail once ``spinning`` runs somewhere (its pid file exists)."""
    deadline = time.monotonic() + 60
    while not list(Path(marker).glob("*.pid")) and time.monotonic() < deadline:
        time.sleep(0.01)
    raise RuntimeError("boom")


def spin_and_fail() -> Workflow:
    """A step computing for ever on executor 'cpu', beside one that fails."""
    return Workflow("spin-and-fail", steps=[spinning, fails_soon])


@step(executor="cpu", timeout=2.0)
def spins_too_long(marker: str) -> int:
    return steps.spin(marker, os.getpid())


def timed_out() -> Workflow:
    return Workflow("timed-out", steps=[spins_too_long])


@step(executor="cpu", retry=Retry(attempts=3, backoff=0.0, on=(steps.Refused,)))
def flaky(marker: str) -> str:
    """Refuse twice (counted in files: each try may run in another process)."""
    tries = len(list(Path(marker).glob("try-*")))
    Path(marker, f"try-{tries}").write_text(str(os.getpid()))
    if tries < 2:
        raise steps.Refused(f"try {tries}")
    return f"ok after {tries + 1} tries"


def retried() -> Workflow:
    return Workflow("retried", steps=[flaky])


@step(executor="cluster")
def slow_remote(marker: str) -> str:
    return steps.slow_then_mark(marker, 1.0)


@step
def fails_when_started(marker: str) -> str:
    """Fail once ``slow_remote`` runs on a worker."""
    deadline = time.monotonic() + 60
    while not Path(marker, "started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    raise RuntimeError("boom")


def slow_and_fail() -> Workflow:
    return Workflow("slow-and-fail", steps=[slow_remote, fails_when_started])


@step
def lock_maker(x: int) -> object:
    import threading

    return threading.Lock()


@step(executor="cpu")
def takes_lock(lock_maker: object) -> str:
    return "never"


def unpicklable_argument() -> Workflow:
    return Workflow("unpicklable-argument", steps=[lock_maker, takes_lock])


LOCK = threading.Lock()


@step(executor="cpu")
def with_lock(x: int, lock: object = LOCK) -> int:
    """A step whose default cannot be pickled."""
    return x
