"""The errors of durable runs: a run id taken, a run that cannot be resumed, a value
that cannot be stored, and a store file that cannot be used.

Kept apart from the store itself so that ``import spectra_dsl`` (which exports the
first three) never loads ``sqlite3``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._errors import SpectraError

if TYPE_CHECKING:
    from ._store_fingerprint import CodeChanges
    from ._store_records import Lease


class RunExistsError(SpectraError):
    """A run was started with a ``run_id`` the store already holds.

    ``run_id`` is that id and ``status`` the stored run's status (``"running"``,
    ``"finished"``, ``"failed"`` or ``"interrupted"``).
    """

    def __init__(self, run_id: str, status: str) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__(
            f"run '{run_id}' already exists in the store (status: {status}); resume it "
            f"with plan.resume({run_id!r}, store=store), start it under another run_id, "
            f"or delete it first with store.delete({run_id!r})"
        )


class ResumeError(SpectraError):
    """A run cannot be resumed (or written) by this process.

    ``reason`` says why: ``"owned"`` (another live process holds its lease: ``owner``),
    ``"lost"`` (this process's lease was taken over: ``owner`` is the new holder),
    ``"changed"`` (the plan changed since the run started: ``changes``), ``"unknown"``
    (no such run in the store) or ``"codec"`` (written with another codec).
    """

    def __init__(
        self, run_id: str, message: str, *, reason: str, owner: Lease | None = None,
        changes: CodeChanges | None = None,
    ) -> None:
        self.run_id = run_id
        self.reason = reason
        self.owner = owner
        self.changes = changes
        super().__init__(message)

    @classmethod
    def owned(cls, run_id: str, owner: Lease, *, alive: bool | None) -> ResumeError:
        """The lease of ``run_id`` is held by ``owner`` (alive, or of unknown liveness)."""
        where = describe_owner(owner)
        if alive and owner.pid == os.getpid():
            hint = ("that is this process: another store object or a run not yet ended "
                    "holds it; release it (store.release / close the store) first")
        elif alive is None:
            hint = ("its liveness cannot be checked from this host; if that process is "
                    "gone, take the run over with force=True")
        else:
            hint = (f"wait for it to end, or stop it (kill {owner.pid}) and try again; "
                    "force=True takes the run over anyway")
        return cls(run_id, f"run '{run_id}' is owned by {where}; {hint}",
                   reason="owned", owner=owner)

    @classmethod
    def lost(cls, run_id: str, owner: Lease | None) -> ResumeError:
        """This store held the lease of ``run_id`` but another owner took it over."""
        if owner is None:
            now = "its lease was released or the run deleted by another store"
        else:
            now = f"its lease is now held by {describe_owner(owner)}"
        return cls(run_id, f"run '{run_id}' is no longer owned by this store: {now}; "
                           "nothing more was written", reason="lost", owner=owner)

    @classmethod
    def unknown(cls, run_id: str, known: Sequence[str]) -> ResumeError:
        """The store has no run ``run_id``; ``known`` are ids it does have."""
        if not known:
            listing = "the store holds no run"
        else:
            shown = ", ".join(repr(k) for k in list(known)[:10])
            more = f" and {len(known) - 10} more" if len(known) > 10 else ""
            listing = f"runs it holds: {shown}{more}"
        return cls(run_id, f"no run '{run_id}' in the store ({listing})", reason="unknown")

    @classmethod
    def changed(cls, run_id: str, changes: CodeChanges) -> ResumeError:
        """The plan's steps changed since ``run_id`` started (``changes`` lists how)."""
        return cls(
            run_id,
            f"run '{run_id}' cannot be resumed: its workflow changed since it started: "
            f"{changes}; resume with on_code_change='rerun' to run the changed steps "
            "again, 'keep' to restore their records anyway, or start a new run",
            reason="changed", changes=changes,
        )

    @classmethod
    def codec(cls, run_id: str, stored: str, current: str) -> ResumeError:
        """``run_id`` was written with codec ``stored`` but the store uses ``current``."""
        return cls(run_id, f"run '{run_id}' was stored with the {stored!r} codec but this "
                           f"store decodes with {current!r}; open the store with the "
                           f"{stored!r} codec to read it", reason="codec")


class SerializationError(SpectraError):
    """A value cannot be stored (or read back) by the store's codec.

    ``step`` is the step that made it (``None`` for a run's input), ``key`` the state key
    or input name, and ``__cause__`` what the codec raised.  ``decoding`` is true when a
    stored value could not be read back.
    """

    def __init__(
        self, step: str | None, key: str, reason: str, *, codec: str = "pickle",
        decoding: bool = False,
    ) -> None:
        self.step = step
        self.key = key
        self.codec = codec
        self.decoding = decoding
        what = f"input '{key}' of the run" if step is None else (
            f"the value of key '{key}' written by step '{step}'")
        if decoding:
            message = (f"{what} cannot be read back with the {codec} codec: {reason} "
                       "(was a class it holds renamed or removed since it was stored?)")
        else:
            fix = ("pass plain data" if step is None else
                   "return plain data, or mark the step @step(durable=False) to compute "
                   "it again on resume instead of storing it")
            message = f"{what} cannot be stored with the {codec} codec: {reason}; {fix}"
        super().__init__(message)


class StoreError(SpectraError):
    """A store file cannot be used: not a spectra-dsl store, a schema version this
    version does not know, locked for too long, or already closed.  ``path`` names it."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


def describe_owner(owner: Lease) -> str:
    """``pid 1234 on host 'box' since 2026-12-01 21:40:03 UTC``."""
    from datetime import datetime, timezone

    since = datetime.fromtimestamp(owner.since, tz=timezone.utc)
    return f"pid {owner.pid} on host '{owner.host}' since {since:%Y-%m-%d %H:%M:%S} UTC"
