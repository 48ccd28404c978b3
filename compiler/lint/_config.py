"""spectra-lint settings: ``[tool.spectra-dsl.lint]`` in ``pyproject.toml`` and code selection.

The nearest ``pyproject.toml`` with a ``[tool.spectra-dsl.lint]`` table, walking up from
the linted paths, is read; command-line options win over it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from compiler import CODES

FORMATS = ("text", "json", "github", "sarif")
TABLE = "[tool.spectra-dsl.lint]"

#: Keys of the table and the type each takes.
_LIST_KEYS = ("select", "ignore", "extend-select", "extend-ignore", "exclude",
              "extend-exclude")
_BOOL_KEYS = ("show-source", "statistics", "exit-zero")
_STR_KEYS = ("format",)
KEYS = (*_LIST_KEYS, *_BOOL_KEYS, *_STR_KEYS)


class ConfigError(Exception):
    """A problem with the settings: an unknown key or code, a value of the wrong type.

    ``source`` is the file (or ``"command line"``) the bad setting came from.
    """

    def __init__(self, message: str, source: str) -> None:
        super().__init__(f"{source}: {message}")
        self.message = message
        self.source = source


@attrs.frozen
class Config:
    """Settings from a ``pyproject.toml`` (all empty when none was found)."""

    path: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    show_source: bool | None = None
    statistics: bool | None = None
    exit_zero: bool | None = None
    format: str | None = None

    @property
    def root(self) -> str | None:
        """The folder that relative ``exclude`` patterns start from."""
        return os.path.dirname(os.path.abspath(self.path)) if self.path else None


def find_pyproject(paths: Sequence[str]) -> str | None:
    """The nearest ``pyproject.toml`` holding a ``[tool.spectra-dsl.lint]`` table, walking
    up from the common folder of ``paths`` (the current folder if there are none)."""
    absolute = [os.path.abspath(p) for p in paths] or [os.getcwd()]
    try:
        start = os.path.commonpath(absolute)
    except ValueError:  # paths on different drives
        start = os.getcwd()
    if not os.path.isdir(start):
        start = os.path.dirname(start)
    folder = start
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _read_toml(path: str) -> dict[str, Any]:
    # imported here: most runs read no configuration (or none with our table)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        with open(path, "rb") as handle:
            document: dict[str, Any] = tomllib.load(handle)
            return document
    except OSError as error:
        raise ConfigError(f"cannot read it: {error.strerror or error}", path) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML: {error}; fix the file", path) from error


def _has_table(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            if b"spectra-dsl" not in handle.read():
                return False
    except OSError:
        return False
    return _table(_read_toml(path)) is not None


def _table(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = document.get("tool")
    if not isinstance(tool, Mapping):
        return None
    project = tool.get("spectra-dsl")
    if not isinstance(project, Mapping):
        return None
    table = project.get("lint")
    return table if isinstance(table, Mapping) else None


def load_config(path: str | None) -> Config:
    """Read the ``[tool.spectra-dsl.lint]`` table of ``path`` (an empty Config for None)."""
    if path is None:
        return Config()
    table = _table(_read_toml(path))
    if table is None:
        return Config(path=path)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(
                f"unknown key '{key}' in {TABLE}; the keys are {', '.join(KEYS)}", path)
        field = key.replace("-", "_")
        if key in _LIST_KEYS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{TABLE} {key} must be a list of strings, like "
                                  f'{key} = ["SPX1"]', path)
            if key in ("exclude", "extend-exclude"):
                values[field] = tuple(value)
            else:
                values[field] = parse_codes(value, f"{TABLE} {key}", path)
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{TABLE} {key} must be true or false", path)
            values[field] = value
        else:
            if value not in FORMATS:
                raise ConfigError(f"{TABLE} format must be one of {', '.join(FORMATS)}, "
                                  f"not {value!r}", path)
            values[field] = value
    return Config(path=path, **values)


_BY_NAME = {code.name: code.code for code in CODES.values()}


def parse_codes(items: Iterable[str], option: str, source: str) -> tuple[str, ...]:
    """Code prefixes (``SPX1``, ``SPX101``), kebab names (``forgotten-join``) or ``ALL``,
    checked: a prefix that matches no code is an error naming it."""
    out: list[str] = []
    for raw in items:
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            if item.upper() == "ALL":
                out.append("SPX")
            elif item in _BY_NAME:
                out.append(_BY_NAME[item])
            elif any(code.startswith(item.upper()) for code in CODES):
                out.append(item.upper())
            else:
                raise ConfigError(
                    f"{option}: '{item}' matches no spectra-lint code; use a code or prefix "
                    f"such as SPX101 or SPX1, or a name such as forgotten-join "
                    "(spectra-lint --list-codes shows them all)", source)
    return tuple(out)


def _longest(code: str, prefixes: Iterable[str]) -> int:
    return max((len(p) for p in prefixes if code.startswith(p)), default=0)


def code_filter(select: Sequence[str], ignore: Sequence[str]) -> Callable[[str], bool]:
    """``enabled(code)``: the most specific prefix decides; on a tie, ignore wins."""

    def enabled(code: str) -> bool:
        chosen = _longest(code, select)
        return chosen > 0 and chosen > _longest(code, ignore)

    return enabled
