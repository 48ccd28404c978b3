"""spectra-lint's output formats: text, JSON, GitHub workflow commands and SARIF 2.1.0."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence

from compiler import CODES, Diagnostic, Severity

from ._source import shown

TOOL_NAME = "spectra-lint"
TOOL_VERSION = "0.1.0"
INFORMATION_URI = "https://github.com/spectra-dsl/spectra-dsl/blob/main/docs/lint.md"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

SourceLine = Callable[[Diagnostic], "str | None"]


def _where(d: Diagnostic) -> tuple[str, int, int]:
    """(path as it can be printed, line, column): a file name that is no valid UTF-8
    shows its odd bytes as ``\\xNN``, so every format can be written."""
    if d.location is None:
        return ("", 1, 1)
    return (shown(d.location.file), d.location.line, d.location.column)


def format_text(diagnostics: Sequence[Diagnostic], *, show_source: bool = False,
                source_line: SourceLine | None = None) -> str:
    """``path:line:col: CODE message`` lines, with the source line under each when asked."""
    out: list[str] = []
    for d in diagnostics:
        path, line, column = _where(d)
        out.append(f"{path}:{line}:{column}: {d.code} {d.message}")
        if show_source and source_line is not None:
            text = source_line(d)
            if text is not None:
                text = text.expandtabs(1).rstrip()
                out.append(f"    {text}")
                out.append(f"    {' ' * (column - 1)}^")
    return "".join(f"{line}\n" for line in out)


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    """A JSON array: path, line, column, code, name, severity, message, steps, key,
    workflow."""
    records = []
    for d in diagnostics:
        path, line, column = _where(d)
        records.append({
            "path": path, "line": line, "column": column, "code": d.code, "name": d.name,
            "severity": str(d.severity), "message": d.message, "steps": list(d.steps),
            "key": d.key, "workflow": d.workflow,
        })
    return json.dumps(records, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands (``::error file=...::message``), one per finding."""
    out = []
    for d in diagnostics:
        path, line, column = _where(d)
        level = "error" if d.severity is Severity.ERROR else "warning"
        title = _escape_property(f"{d.code} ({d.name})")
        out.append(f"::{level} file={_escape_property(path)},line={line},col={column},"
                   f"title={title}::{_escape_data(f'{d.code} {d.message}')}\n")
    return "".join(out)


def _uri(path: str, base: str | None) -> str:
    """A relative, ``/``-separated URI for ``path`` (relative to ``base``, when inside);
    the bytes of a file name that is no valid UTF-8 are percent-encoded as they are."""
    absolute = os.path.abspath(path)
    start = os.path.abspath(base or os.getcwd())
    try:
        relative = os.path.relpath(absolute, start)
    except ValueError:
        relative = absolute
    if relative.startswith(os.pardir):
        relative = absolute
    from urllib.parse import quote

    return quote(os.fsencode(relative.replace(os.sep, "/")))


def sarif_document(diagnostics: Sequence[Diagnostic], *, base: str | None = None) -> dict[
        str, object]:
    """The SARIF 2.1.0 log of ``diagnostics`` as a JSON-ready dict."""
    rules = []
    index: dict[str, int] = {}
    for position, code in enumerate(CODES.values()):
        index[code.code] = position
        rules.append({
            "id": code.code,
            "name": code.name,
            "shortDescription": {"text": code.summary},
            "fullDescription": {"text": f"{code.code} ({code.name}): {code.summary}"},
            "helpUri": f"{INFORMATION_URI}#{code.code.lower()}",
            "defaultConfiguration": {
                "level": "error" if code.severity is Severity.ERROR else "warning"},
            "properties": {"tags": ["spectra-dsl"]},
        })
    results = []
    for d in diagnostics:
        _, line, column = _where(d)
        result: dict[str, object] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": "error" if d.is_error else "warning",
            "message": {"text": d.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": _uri(d.location.file if d.location else "", base),
                        "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": max(line, 1), "startColumn": max(column, 1)},
                },
            }],
        }
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": TOOL_NAME, "version": TOOL_VERSION,
                "informationUri": INFORMATION_URI, "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def format_sarif(diagnostics: Sequence[Diagnostic], *, base: str | None = None) -> str:
    """SARIF 2.1.0, as GitHub code scanning accepts it."""
    return json.dumps(sarif_document(diagnostics, base=base), indent=2) + "\n"


def format_statistics(diagnostics: Sequence[Diagnostic]) -> str:
    """One line per code: count, code, name and severity, most frequent first."""
    counts = Counter(d.code for d in diagnostics)
    width = len(str(max(counts.values(), default=0)))
    lines = [
        f"{count:>{width}}  {code}  {CODES[code].name} ({CODES[code].severity})\n"
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return "".join(lines)


def summary(diagnostics: Sequence[Diagnostic], files: int, suppressed: int = 0) -> str:
    """The line printed on stderr after a run."""
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    hidden = f", {suppressed} suppressed by noqa" if suppressed else ""
    if not diagnostics:
        return f"All checks passed ({checked}{hidden})."
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    with_findings = len({d.location.file for d in diagnostics if d.location is not None})
    return (f"Found {errors} error{'s' if errors != 1 else ''} and {warnings} "
            f"warning{'s' if warnings != 1 else ''} in {with_findings} "
            f"file{'s' if with_findings != 1 else ''} ({checked}{hidden}).")
