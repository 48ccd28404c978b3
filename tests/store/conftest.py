"""Fixtures of the store tests: every API test runs on both stores.

``make_store`` opens a store of the test's kind (``MemoryStore`` or ``SqliteStore``
on a real file in ``tmp_path``), closed after the test; ``clock`` is a settable wall
clock the stores stamp records with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spectra_dsl.store import MemoryStore, SqliteStore, Store


class WallClock:
    """A wall clock a test sets: ``clock.now = 100.0``."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


MakeStore = Callable[..., Store]


@pytest.fixture
def clock() -> WallClock:
    return WallClock()


@pytest.fixture(params=["memory", "sqlite"])
def kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def make_store(kind: str, tmp_path: Path, clock: WallClock) -> Iterator[MakeStore]:
    """Opens stores of this test's kind; the SQLite ones share one file."""
    opened: list[Store] = []

    def make(**options: Any) -> Store:
        options.setdefault("clock", clock)
        store: Store
        if kind == "memory":
            store = MemoryStore(**options)
        else:
            store = SqliteStore(tmp_path / "runs.sqlite", **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> Store:
    return make_store()
