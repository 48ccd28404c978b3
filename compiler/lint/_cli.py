"""The ``spectra-lint`` command line (also ``python -m compiler.lint`` and ``python -m compiler``).

Exit status: 0 when nothing was found, 1 when something was, 2 for a usage,
configuration or internal error.  ``--exit-zero`` turns 1 into 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from compiler import CODES

from ._config import (
    FORMATS,
    Config,
    ConfigError,
    code_filter,
    find_pyproject,
    load_config,
    parse_codes,
)
from ._engine import LintResult, lint_paths
from ._report import (
    TOOL_NAME,
    TOOL_VERSION,
    format_github,
    format_json,
    format_sarif,
    format_statistics,
    format_text,
    summary,
)
from ._source import shown

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=TOOL_NAME,
        description="Check spectra-dsl workflows from their source, without importing them: "
        "forgotten joins, racing writers, unknown names, cycles, type mismatches.",
        epilog="Exit status: 0 clean, 1 findings, 2 usage, configuration or internal error. "
        "Settings are read from [tool.spectra-dsl.lint] in the nearest pyproject.toml; "
        "options given here win.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files and folders to check (default: the current folder)")
    codes = parser.add_argument_group("choosing codes (prefixes like SPX1, codes like "
                                      "SPX101, names like forgotten-join, or ALL)")
    codes.add_argument("--select", action="append", metavar="CODES",
                       help="report only these codes (comma-separated; replaces the "
                       "configured select)")
    codes.add_argument("--ignore", action="append", metavar="CODES",
                       help="do not report these codes (replaces the configured ignore)")
    codes.add_argument("--extend-select", action="append", metavar="CODES", default=[],
                       help="report these codes as well")
    codes.add_argument("--extend-ignore", action="append", metavar="CODES", default=[],
                       help="do not report these codes either")
    files = parser.add_argument_group("choosing files")
    files.add_argument("--exclude", action="append", metavar="PATTERNS",
                       help="glob patterns of files and folders to skip (replaces the "
                       "configured exclude)")
    files.add_argument("--extend-exclude", action="append", metavar="PATTERNS", default=[],
                       help="more patterns to skip")
    files.add_argument("--config", metavar="FILE",
                       help="read settings from this pyproject.toml instead of searching")
    files.add_argument("--isolated", action="store_true",
                       help="ignore every configuration file")
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=FORMATS, default=None,
                        help="text (default), json, github (workflow commands) or sarif")
    output.add_argument("--output-file", "-o", metavar="FILE",
                        help="write the report to FILE instead of standard output")
    output.add_argument("--show-source", action=argparse.BooleanOptionalAction, default=None,
                        help="show the source line of each finding (text format)")
    output.add_argument("--statistics", action="store_true", default=None,
                        help="count the findings per code after the report")
    output.add_argument("--exit-zero", action="store_true", default=None,
                        help="exit 0 even when something was found")
    output.add_argument("--quiet", "-q", action="store_true",
                        help="no summary on standard error")
    output.add_argument("--graph", choices=("mermaid", "dot"), default=None,
                        help="draw the workflows (Mermaid or Graphviz DOT) instead of "
                        "checking them")
    output.add_argument("--workflow", metavar="NAME",
                        help="with --graph: draw only the workflow of this name")
    output.add_argument("--list-codes", action="store_true",
                        help="list every code with its name and severity, then exit")
    output.add_argument("--version", action="version", version=f"{TOOL_NAME} {TOOL_VERSION}")
    return parser


def _split(values: Sequence[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _list_codes(out: TextIO) -> None:
    for code in CODES.values():
        out.write(f"{code.code}  {code.name:<26} {code.severity!s:<8} {code.summary}\n")


def _config(args: argparse.Namespace, paths: Sequence[str]) -> Config:
    if args.isolated:
        return Config()
    if args.config is not None:
        if not os.path.isfile(args.config):
            raise ConfigError("no such configuration file; check the --config path",
                              args.config)
        return load_config(args.config)
    return load_config(find_pyproject(paths))


def main(argv: Sequence[str] | None = None) -> int:
    """Run spectra-lint with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    try:
        return _main(argv)
    except _UsageError as error:
        sys.stderr.write(f"{TOOL_NAME}: error: {error}\n")
        return EXIT_ERROR
    except ConfigError as error:
        sys.stderr.write(f"{TOOL_NAME}: configuration error: {error}\n")
        return EXIT_ERROR
    except SystemExit as exiting:  # --help and --version
        return exiting.code if isinstance(exiting.code, int) else EXIT_CLEAN
    except KeyboardInterrupt:
        sys.stderr.write(f"{TOOL_NAME}: interrupted\n")
        return EXIT_ERROR
    except Exception as error:  # a bug: say so, never a traceback as the only output
        sys.stderr.write(f"{TOOL_NAME}: internal error: {type(error).__name__}: {error}; "
                         "please report it with the file that caused it\n")
        return EXIT_ERROR


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.list_codes:
        _list_codes(sys.stdout)
        return EXIT_CLEAN
    paths: list[str] = args.paths or ["."]
    if args.graph is not None:
        from ._graph import run_graph
        return run_graph(paths, args.graph, args.workflow,
                         lambda text: _write(text, args.output_file))
    config = _config(args, paths)
    command_line = "command line"
    for option, given in (("--select", args.select), ("--ignore", args.ignore),
                          ("--extend-select", args.extend_select),
                          ("--extend-ignore", args.extend_ignore)):
        if given and not _split(given):
            raise _UsageError(f"{option} was given an empty value; name at least one code "
                              f"or prefix, such as {option}=SPX1")
    select = config.select
    if args.select is not None:
        select = parse_codes(_split(args.select) or (), "--select", command_line)
    ignore = config.ignore
    if args.ignore is not None:
        ignore = parse_codes(_split(args.ignore) or (), "--ignore", command_line)
    selected = (*(select if select is not None else ("SPX",)), *config.extend_select,
                *parse_codes(_split(args.extend_select) or (), "--extend-select",
                             command_line))
    ignored = (*(ignore or ()), *config.extend_ignore,
               *parse_codes(_split(args.extend_ignore) or (), "--extend-ignore",
                            command_line))
    exclude = _split(args.exclude) if args.exclude is not None else config.exclude
    excluded = (*(exclude or ()), *config.extend_exclude, *(_split(args.extend_exclude) or ()))
    fmt = args.format or config.format or "text"
    show_source = args.show_source if args.show_source is not None else bool(
        config.show_source)
    statistics = bool(args.statistics or config.statistics)
    exit_zero = bool(args.exit_zero or config.exit_zero)

    result = lint_paths(paths, enabled=code_filter(selected, ignored), exclude=excluded,
                        root=config.root)
    report = _render(result, fmt, show_source)
    if statistics and fmt == "text":
        report += format_statistics(result.diagnostics)
    _write(report, args.output_file)
    if not args.quiet:
        _print(sys.stderr, summary(result.diagnostics, len(result.files), result.suppressed)
               + "\n")
    for problem in result.internal_errors:
        _print(sys.stderr, f"{TOOL_NAME}: internal error while checking {shown(problem)}; "
               "please report it with that file\n")
    if result.internal_errors:
        return EXIT_ERROR
    if result.diagnostics and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _print(stream: TextIO, text: str) -> None:
    """Write ``text``; a character the stream cannot encode is written escaped."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


def _render(result: LintResult, fmt: str, show_source: bool) -> str:
    if fmt == "json":
        return format_json(result.diagnostics)
    if fmt == "github":
        return format_github(result.diagnostics)
    if fmt == "sarif":
        return format_sarif(result.diagnostics)
    return format_text(result.diagnostics, show_source=show_source,
                       source_line=result.source_line)


def _write(report: str, output_file: str | None) -> None:
    report = shown(report)  # valid UTF-8, whatever the file names held
    if output_file is None:
        _print(sys.stdout, report)
        return
    try:
        with open(output_file, "w", encoding="utf-8") as handle:
            handle.write(report)
    except OSError as error:
        raise _UsageError(f"cannot write {output_file}: {error.strerror or error}") from error
