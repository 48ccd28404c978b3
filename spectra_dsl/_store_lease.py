"""Leases: which process owns a run, and whether a recorded owner is still alive.

An owner on this host is alive when its pid exists, is no zombie and (where the system
says) is the same process that took the lease: same boot, same start time, so a pid
reused after a crash or a container restart is not mistaken for the owner.  An owner
on another host cannot be checked from here.
"""

from __future__ import annotations

import os
import socket
import uuid
from functools import cache

from ._store_errors import ResumeError
from ._store_records import Lease


@cache
def this_host() -> str:
    """This machine's host name, as leases record it."""
    return socket.gethostname()


@cache
def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return ""


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time in clock ticks since boot)`` of ``pid`` from ``/proc``, or
    ``None`` where there is no ``/proc`` or no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            text = file.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # the name in (...) may hold spaces
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def process_identity(pid: int) -> str | None:
    """What identifies process ``pid`` beyond its number (boot id and start time), or
    ``None`` where the system does not say."""
    stat = _proc_stat(pid)
    boot = _boot_id()
    if stat is None or not boot:
        return None
    return f"{boot}:{stat[1]}"


def pid_alive(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` on this host exists, is not a zombie and, when
    ``started`` is given and checkable, is the process that recorded it."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:  # pragma: no cover - e.g. no kill() at all
        return True
    stat = _proc_stat(pid)
    if stat is not None and stat[0] in ("Z", "X"):
        return False
    if started is not None:
        current = process_identity(pid)
        if current is not None and current != started:
            return False
    return True


def owner_alive(lease: Lease, host: str) -> bool | None:
    """Whether ``lease``'s owner is alive, seen from ``host``: ``None`` when it is on
    another host (cannot be checked)."""
    if lease.host != host:
        return None
    return pid_alive(lease.pid, lease.started)


def new_token() -> str:
    """A fresh token for one store object's leases."""
    return uuid.uuid4().hex


#: This process's identity, by pid (a forked child reads its own).
_OWN: dict[int, str | None] = {}


def new_lease(*, host: str, token: str, now: float) -> Lease:
    """A lease for this process, taken at ``now``."""
    pid = os.getpid()
    if pid not in _OWN:
        _OWN[pid] = process_identity(pid)
    return Lease(pid=pid, host=host, token=token, since=now, started=_OWN[pid])


def check_free(run_id: str, held: Lease | None, *, host: str, force: bool) -> None:
    """Raise :class:`ResumeError` naming the owner unless the lease ``held`` (the one
    recorded now) may be taken: none held, its owner dead on this host, or ``force``."""
    if held is None or force:
        return
    alive = owner_alive(held, host)
    if alive is False:
        return
    raise ResumeError.owned(run_id, held, alive=alive)
