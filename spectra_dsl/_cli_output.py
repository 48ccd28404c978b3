"""How the ``spectra`` command prints what it found: a run's final state (as text or
as one JSON object) and the runs of a store (as a table)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

import attrs

from .store import RunRecord


def plain(value: object) -> object:
    """``value`` as data JSON can hold: attrs classes and dataclasses as objects, sets
    as sorted lists, anything else JSON cannot hold as its ``repr``."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [plain(v) for v in value]
        try:
            return sorted(items)  # type: ignore[type-var]
        except TypeError:
            return items
    kind = type(value)
    if attrs.has(kind):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(kind)}
    fields = getattr(value, "__dataclass_fields__", None)
    if isinstance(fields, dict):
        return {name: plain(getattr(value, name)) for name in fields}
    return repr(value)


def state_json(state: Mapping[str, Any]) -> str:
    """The final state as one JSON object on one line."""
    return json.dumps(plain(dict(state)), ensure_ascii=False)


def state_text(state: Mapping[str, Any]) -> str:
    """The final state, a ``key: value`` line per key (values as JSON where they can
    be: strings quoted, so ``"3"`` and ``3`` differ)."""
    lines = []
    for key, value in state.items():
        shown = json.dumps(plain(value), ensure_ascii=False)
        lines.append(f"{key}: {shown}")
    return "\n".join(lines)


RUN_COLUMNS = ("run id", "workflow", "status", "updated")


def run_rows(records: Sequence[RunRecord]) -> list[tuple[str, str, str, str]]:
    """One row per run: its id, workflow, status and when it last changed (local
    time), oldest first."""
    return [(r.run_id, r.workflow, r.status, _when(r.updated)) for r in records]


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def write_table(rows: Sequence[Sequence[str]], columns: Sequence[str], out: IO[str]) -> None:
    """Rows as text columns padded to line up (what a pipe or a file gets)."""
    widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    for row in (columns, *rows):
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                  .rstrip() + "\n")
