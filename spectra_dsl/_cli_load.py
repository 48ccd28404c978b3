"""What the ``spectra`` command reads from its command line: the workflow a
``module:workflow`` target names, and ``key=value`` inputs and answers.

Errors here are the user's to fix from the command line: each is a :class:`UsageError`
whose message says what was wrong and what would work (the command exits with status 2
and no traceback).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ._errors import SpectraWarning
from ._plan import Plan
from ._workflow import Workflow


class UsageError(Exception):
    """A mistake on the command line: the command prints it and exits with status 2."""


class ImportFailed(Exception):
    """The workflow's module raised while it was imported (its traceback is the user's
    to read: the command prints it and exits with status 1)."""

    def __init__(self, module: str, error: BaseException) -> None:
        super().__init__(f"importing '{module}' raised {type(error).__name__}: {error}")
        self.module = module
        self.error = error


def parse_pairs(pairs: Sequence[str], what: str, flag: str) -> dict[str, Any]:
    """``["n=3", "url=https://x"]`` as ``{"n": 3, "url": "https://x"}``: each value is
    read as JSON when it parses as JSON, kept as the string otherwise."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{flag} takes {what}=VALUE, such as {flag} url=https://example.org;"
                             f" got {pair!r}")
        if key in values:
            raise UsageError(f"{what} '{key}' is given twice ({flag} {key}=...); give it once")
        values[key] = parse_value(text)
    return values


def read_inputs(path: str) -> dict[str, Any]:
    """The inputs in the JSON file at ``path`` (``-``: standard input): one object
    mapping input names to values."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read --inputs file '{path}': {error.strerror}") from None
    try:
        found = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--inputs file '{path}' is not JSON: {error}") from None
    if not isinstance(found, dict):
        raise UsageError(f"--inputs file '{path}' holds {type(found).__name__}: give one "
                         'JSON object of input names to values, such as {"n": 3}')
    return found


def parse_value(text: str) -> Any:
    """``text`` as JSON (``3``, ``true``, ``[1, 2]``, ``{"a": 1}``, ``"quoted"``) when it
    parses, else the string itself (``https://example.org``, ``hello world``)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_plan(target: str) -> Plan:
    """The plan ``target`` (``module:attribute``) names, compiled if it is a
    :class:`Workflow`; compile warnings are printed to standard error."""
    found = load_target(target)
    if isinstance(found, Plan):
        return found
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SpectraWarning)
        plan = found.compile()
    for warning in caught:
        if issubclass(warning.category, SpectraWarning):
            sys.stderr.write(f"spectra: warning: {warning.message}\n")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return plan


def load_target(target: str) -> Workflow | Plan:
    """The :class:`Workflow` or :class:`Plan` that ``target`` names.

    ``module:attribute`` (``examples.parallel_analysis:wf``), a file path in place of the
    module (``examples/parallel_analysis.py:wf``), or the module alone when it holds
    exactly one workflow.  The attribute may also be a workflow's name
    (``module:parallel-analysis``).  The current directory comes first on ``sys.path``.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name:
        raise UsageError(f"give the workflow as module:workflow, such as "
                         f"examples.parallel_analysis:wf; got {target!r}")
    module = _import(module_name)
    candidates = _workflows(module)
    if not attribute:
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        listing = _listing(module_name, candidates)
        raise UsageError(f"say which workflow of '{module_name}' to use, as "
                         f"{module_name}:NAME; {listing}")
    found: object = module
    for part in attribute.split("."):
        found = getattr(found, part, _MISSING)
        if found is _MISSING:
            break
    if found is _MISSING:
        by_name = [w for w in candidates.values() if _name_of(w) == attribute]
        if by_name:
            return by_name[0]
        listing = _listing(module_name, candidates)
        raise UsageError(f"module '{module_name}' has no workflow '{attribute}'; {listing}")
    if not isinstance(found, (Workflow, Plan)):
        raise UsageError(
            f"'{target}' is {type(found).__name__}, not a Workflow or a Plan; "
            + _listing(module_name, candidates)
        )
    return found


_MISSING = object()


def _import(module_name: str) -> ModuleType:
    """Import ``module_name`` (or the file it names) with the current directory first
    on ``sys.path``."""
    cwd = os.getcwd()
    if cwd in sys.path:
        sys.path.remove(cwd)
    sys.path.insert(0, cwd)
    if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
        return _import_file(Path(module_name))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise UsageError(
                f"no module named '{module_name}' (looked in the current directory "
                f"{cwd} first, then on sys.path); run spectra from the directory that "
                "holds it, or give the path of its file (path/to/file.py:workflow)"
            ) from None
        raise ImportFailed(module_name, error) from error
    except Exception as error:
        raise ImportFailed(module_name, error) from error


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise UsageError(f"no file '{path}' (the part before ':' is a module name or the "
                         "path of a .py file)")
    name = "_spectra_cli_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import '{path}': it is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (attrs and pickle look modules up by name)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise ImportFailed(str(path), error) from error
    return module


def _workflows(module: ModuleType) -> dict[str, Workflow | Plan]:
    """The module's attributes that are workflows or plans, by attribute name."""
    return {name: value for name, value in vars(module).items()
            if isinstance(value, (Workflow, Plan)) and not name.startswith("_")}


def _name_of(found: Workflow | Plan) -> str:
    return found.name if isinstance(found, Workflow) else found.graph.name


def _listing(module_name: str, candidates: dict[str, Workflow | Plan]) -> str:
    if not candidates:
        return f"'{module_name}' defines no Workflow or Plan at its top level"
    names = ", ".join(f"{module_name}:{attr} ('{_name_of(found)}')"
                      for attr, found in candidates.items())
    return f"it has: {names}"
