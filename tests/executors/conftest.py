"""Fixtures for the executor tests: real worker processes, a real Dask cluster.

One ``LocalCluster`` with two worker processes serves all these tests (starting one
takes seconds); it is always closed, whatever the tests did to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spectra_dsl.executors import ProcessExecutor


@pytest.fixture(scope="package")
def cluster() -> Iterator[Any]:
    """A Dask ``LocalCluster`` of two single-threaded worker processes, on loopback."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=40,
        # the scheduler's HTTP server (health, metrics) on a free port, not 8787
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="package")
def client(cluster: Any) -> Iterator[Any]:
    """A client of :func:`cluster` (closed after the module)."""
    distributed = pytest.importorskip("distributed")
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="package")
def processes() -> Iterator[ProcessExecutor]:
    """A ProcessExecutor of two workers, kept across the module's tests, then closed."""
    with ProcessExecutor(2) as executor:
        yield executor
