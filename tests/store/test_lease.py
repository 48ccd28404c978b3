"""One process owns a run: leases between store objects and real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from spectra_dsl import ResumeError
from spectra_dsl.store import SqliteStore, Store, pid_alive

CHILD = Path(__file__).with_name("_child.py")


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> int:
    process.communicate("")
    return process.returncode


# -- in one process, on both stores --------------------------------------------------


def test_leases_do_not_nest_even_in_the_owning_store(store: Store) -> None:
    store.create_run("r", workflow="wf")
    with pytest.raises(ResumeError) as caught:
        store.acquire("r")
    error = caught.value
    assert error.reason == "owned" and error.owner is not None
    assert error.owner.pid == os.getpid()
    assert f"pid {os.getpid()} on host '{socket.gethostname()}' since " in str(error)
    assert "that is this process" in str(error)


def test_a_released_run_is_taken_again_and_the_record_says_by_whom(store: Store) -> None:
    first = store.create_run("r", workflow="wf", inputs={"a": 1})
    store.release("r")
    assert store.held == frozenset() and store.run("r").lease is None
    again = store.acquire("r")
    assert again.lease is not None and first.lease is not None
    assert again.lease.token == first.lease.token and again.lease.pid == os.getpid()
    assert store.held == {"r"}
    store.release("r")
    store.release("r")  # nothing held: nothing to do


def test_writing_needs_the_lease(store: Store) -> None:
    store.create_run("r", workflow="wf")
    store.release("r")
    for call in (lambda: store.commit("r", [store.record("a", "finished")]),
                 lambda: store.set_fingerprints("r", "p", {}),
                 lambda: store.discard("r", [((), "a")])):
        with pytest.raises(ResumeError) as caught:
            call()
        assert caught.value.reason == "lost"
    assert store.steps("r") == []


def test_a_run_deleted_under_its_writer_stops_its_writes(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as writer, SqliteStore(path) as admin:
        writer.create_run("r", workflow="wf")
        admin.delete("r", force=True)
        with pytest.raises(ResumeError) as caught:
            writer.commit("r", [writer.record("a", "finished")])
        assert caught.value.reason == "lost"
        assert "released or the run deleted" in str(caught.value)
        assert admin.runs() == []


def test_deleting_an_owned_run_needs_force(store: Store) -> None:
    store.create_run("r", workflow="wf")
    with pytest.raises(ResumeError) as caught:
        store.delete("r")
    assert caught.value.reason == "owned"
    store.delete("r", force=True)
    assert store.runs() == [] and store.held == frozenset()


# -- between store objects on one file -------------------------------------------------


def test_a_second_store_object_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    first = SqliteStore(path)
    first.create_run("r", workflow="wf")
    with SqliteStore(path) as second:
        with pytest.raises(ResumeError, match="that is this process"):
            second.acquire("r")
        first.close()  # releases
        assert second.acquire("r").lease is not None


def test_an_owner_on_another_host_is_taken_only_with_force_and_its_writes_stop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path, host="box-a") as there, SqliteStore(path, host="box-b") as here:
        there.create_run("r", workflow="wf")
        with pytest.raises(ResumeError) as caught:
            here.acquire("r")
        assert "on host 'box-a'" in str(caught.value)
        assert "cannot be checked from this host" in str(caught.value)
        assert "force=True" in str(caught.value)
        taken = here.acquire("r", force=True)
        assert taken.lease is not None and taken.lease.host == "box-b"
        with pytest.raises(ResumeError) as lost:
            there.commit("r", [there.record("a", "finished")], status="finished")
        assert lost.value.reason == "lost" and "on host 'box-b'" in str(lost.value)
        assert here.steps("r") == [] and here.run("r").status == "running"


# -- between processes ---------------------------------------------------------------


def test_two_processes_contend_for_one_run_and_exactly_one_owns_it(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        store.create_run("r", workflow="wf")
    processes = [child("lease", str(path), "r") for _ in range(2)]
    lines = [p.stdout.readline().strip() for p in processes if p.stdout is not None]
    owners = [p for p, line in zip(processes, lines, strict=True) if line == "owned"]
    refusals = [line for line in lines if line.startswith("refused")]
    assert len(owners) == 1 and len(refusals) == 1, lines
    assert f"is owned by pid {owners[0].pid} on host" in refusals[0]
    assert [finish(p) for p in processes] == [0, 0]
    with SqliteStore(path) as store:
        assert store.run("r").lease is None  # the owner released it on close


def test_a_live_owner_process_is_named_and_a_killed_one_frees_the_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        store.create_run("r", workflow="wf")
        store.release("r")
        owner = child("lease", str(path), "r")
        assert owner.stdout is not None and owner.stdout.readline().strip() == "owned"
        with pytest.raises(ResumeError) as caught:
            store.acquire("r")
        assert caught.value.owner is not None and caught.value.owner.pid == owner.pid
        assert f"kill {owner.pid}" in str(caught.value)
        owner.kill()
        owner.communicate()
        record = store.acquire("r")  # dead on this host: free without force
        assert record.lease is not None and record.lease.pid == os.getpid()


def test_a_lease_left_by_a_process_killed_with_sigkill_is_taken_without_force(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        store.create_run("r", workflow="wf")
        store.release("r")
    dead = child("die-holding", str(path), "r")
    out, _ = dead.communicate("")
    assert out.strip() == "owned" and dead.returncode == -9
    with SqliteStore(path) as store:
        held = store.run("r").lease
        assert held is not None and held.pid == dead.pid and not pid_alive(held.pid)
        assert store.acquire("r").lease is not None


def test_liveness_checks_the_process_not_just_its_number() -> None:
    assert pid_alive(os.getpid())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    assert not pid_alive(int(gone.stdout))
    if Path("/proc/self/stat").exists():  # the pid is ours, the process is not
        assert not pid_alive(os.getpid(), started="another-boot:12345")
