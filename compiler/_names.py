"""Near-miss detection: a typo in a parameter name must never silently become an input."""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between ``a`` and ``b``, or ``limit + 1`` once it exceeds it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            )
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _affixed(a: str, b: str) -> bool:
    """``user_id`` and ``user``: one is the other with a ``_``-separated prefix or suffix."""
    short, long = sorted((a, b), key=len)
    return long.startswith(short + "_") or long.endswith("_" + short)


def near_misses(name: str, candidates: Iterable[str]) -> list[str]:
    """The candidates that ``name`` is probably a typo of, closest first.

    Names of one or two characters are never near misses, nor are names that differ
    only by a ``_``-separated prefix or suffix.  The allowed edit distance is 1, or 2
    for names longer than 8 characters.
    """
    if len(name) <= 2:
        return []
    limit = 2 if len(name) > 8 else 1
    found: list[tuple[int, str]] = []
    for candidate in candidates:
        if candidate == name or len(candidate) <= 2 or _affixed(name, candidate):
            continue
        distance = edit_distance(name, candidate, limit)
        if distance <= limit:
            found.append((distance, candidate))
    return [candidate for _, candidate in sorted(found)]
