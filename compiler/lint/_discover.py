"""Finding the Python files under the paths given, minus the excluded ones."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Iterator, Sequence

#: Folders never entered when walking a tree (a file named on the command line is
#: still checked).
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "node_modules",
    "*.egg-info", "__pypackages__",
)


class Excluder:
    """Matches paths against glob patterns, by name and by path relative to ``root``
    (one compiled expression per kind of match, not ``fnmatch`` per pattern)."""

    def __init__(self, patterns: Sequence[str], root: str | None) -> None:
        self.root = root
        cleaned = []
        for raw in patterns:
            pattern = raw.rstrip("/").replace(os.sep, "/")
            cleaned.append(pattern[2:] if pattern.startswith("./") else pattern)
        self.empty = not cleaned
        self._name = _compile(cleaned)
        self._relative = _compile([*cleaned, *(p + "/*" for p in cleaned)])

    def __call__(self, path: str) -> bool:
        """True when ``path`` matches a pattern."""
        if self.empty:
            return False
        name = os.path.basename(os.path.normpath(path))
        if self._name.match(name):
            return True
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute, self.root) if self.root else os.path.normpath(
            path)
        return self._relative.match(relative.replace(os.sep, "/")) is not None


def _compile(patterns: Sequence[str]) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def discover(paths: Iterable[str], exclude: Sequence[str] = (),
             root: str | None = None) -> Iterator[str]:
    """The Python files under ``paths``, in sorted order, skipping excluded ones.

    A path named explicitly is yielded even if it is no ``.py`` file or does not exist
    (reading it then gives SPX901), unless a user ``exclude`` pattern matches it.
    """
    user = Excluder(exclude, root)
    default = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in DEFAULT_EXCLUDE))

    def walking(path: str) -> bool:  # the defaults by name: never the folders given
        return default.match(os.path.basename(path)) is not None or user(path)

    seen: set[str] = set()
    for path in paths:
        if os.path.isdir(path):
            if user(path) and os.path.normpath(path) != ".":
                continue
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not walking(os.path.join(folder, d)))
                for file in sorted(files):
                    if not file.endswith(".py"):
                        continue
                    full = os.path.normpath(os.path.join(folder, file))
                    if full not in seen and not walking(full):
                        seen.add(full)
                        yield full
        else:
            full = os.path.normpath(path)
            if full not in seen and not user(full):
                seen.add(full)
                yield full
