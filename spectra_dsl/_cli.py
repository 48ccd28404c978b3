"""The ``spectra`` command (extra ``spectra-dsl[cli]``): run, draw, list and resume
workflows from a shell.

```sh
spectra run examples.parallel_analysis:wf -i url=https://example.org
spectra graph examples.parallel_analysis:wf --format mermaid
spectra runs --store runs.sqlite
spectra resume RUN_ID examples.approval:wf --store runs.sqlite --answer approval=true
spectra lint examples/
```

Exit status: 0 when the run finished, 1 when a step failed (or the workflow does not
compile, or its module raised on import), 2 for a mistake on the command line (an
unknown module, workflow or input), 3 when the run stopped to wait for answers
(``spectra resume`` goes on), 130 when interrupted.  ``rich`` draws the live progress
display; it is imported only here, and only when standard output is a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

from ._cli_load import ImportFailed, UsageError, load_plan, parse_pairs, read_inputs
from ._cli_output import RUN_COLUMNS, run_rows, state_json, state_text, write_table
from ._cli_progress import Progress, shown
from ._errors import InputError, SpectraError, StepFailed
from ._outputs import OutputError
from ._plan import Plan
from ._result import RunResult
from ._store_errors import RunExistsError

#: The store ``spectra runs`` and ``spectra resume`` read when given no ``--store``.
DEFAULT_STORE = "runs.sqlite"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WAITING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

OnEvent = Callable[[Any], None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``spectra`` command with ``argv`` (default ``sys.argv[1:]``); returns
    the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["lint"]:  # everything after `lint` is spectra-lint's
        from compiler.lint import main as lint_main
        return lint_main(args_list[1:])
    parser = _parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status: int = args.handler(args)
        return status
    except Hinted as hinted:
        status = _report(hinted.error)
        sys.stderr.write(f"spectra: {hinted.hint}\n")
        return status
    except (UsageError, ImportFailed, SpectraError) as error:
        return _report(error)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BaseExceptionGroup as group:  # trio's, around a Ctrl-C in a nursery
        if group.subgroup(KeyboardInterrupt) is not None:
            return _fail("interrupted", EXIT_INTERRUPTED)
        raise


class Hinted(Exception):
    """``error``, with a line saying what to do next (printed after it)."""

    def __init__(self, error: Exception, hint: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.hint = hint


def _report(error: Exception) -> int:
    """Say what went wrong on standard error; return the exit status it gives."""
    if isinstance(error, (UsageError, InputError, OutputError)):
        return _fail(f"error: {error}", EXIT_USAGE)
    if isinstance(error, ImportFailed):
        sys.stderr.write("".join(traceback.format_exception(error.error)))
        return _fail(f"error: {error} (the traceback above is from the module's code)",
                     EXIT_FAILED)
    if isinstance(error, StepFailed):
        cause = error.__cause__
        if cause is not None and not isinstance(cause, SpectraError):
            sys.stderr.write("".join(traceback.format_exception(cause)))
        return _fail(str(error), EXIT_FAILED)
    return _fail(f"error: {error}", EXIT_FAILED)  # CompileError and the others


def _fail(message: str, status: int) -> int:
    sys.stderr.write(f"spectra: {message}\n")
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spectra",
        description="Run, draw, list and resume spectra-dsl workflows.",
        epilog="A workflow is named as module:attribute (examples.parallel_analysis:wf) or "
               "path/to/file.py:attribute; the current directory comes first on sys.path. "
               "`spectra lint ARGS` is spectra-lint ARGS.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run a workflow and print its final state",
                              description="Run a workflow and print its final state.")
    run.add_argument("target", metavar="module:workflow")
    _inputs(run, "-i", "--input", "input", "an input of the workflow")
    run.add_argument("--inputs", metavar="FILE",
                     help="a JSON file of one object of inputs (- for standard input); "
                          "-i gives more, or overrides its values")
    run.add_argument("-o", "--output", action="append", default=[], metavar="NAME",
                     help="run only what this output (a step or key) needs; repeat for "
                          "more (outputs=)")
    run.add_argument("--json", action="store_true",
                     help="print the final state as one JSON object")
    run.add_argument("--store", metavar="PATH",
                     help="journal the run in this SQLite file (resume it later)")
    run.add_argument("--run-id", metavar="ID", help="the run's id in --store (default: new)")
    run.add_argument("--trace", metavar="PATH",
                     help="write the run as Trace Event JSON (open in ui.perfetto.dev)")
    run.add_argument("-j", "--max-concurrency", type=_positive, metavar="N",
                     help="run at most N steps at once")
    run.add_argument("--timeline", action="store_true",
                     help="print the run's timeline after its state")
    run.add_argument("--plain", action="store_true",
                     help="no live progress display, even on a terminal")
    run.set_defaults(handler=_run)

    graph = commands.add_parser("graph", help="draw a workflow as Mermaid or DOT",
                                description="Draw a workflow as Mermaid or Graphviz DOT.")
    graph.add_argument("target", metavar="module:workflow")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.set_defaults(handler=_graph)

    runs = commands.add_parser("runs", help="list the runs of a store",
                               description="List the runs of a store, oldest first.")
    runs.add_argument("--store", metavar="PATH", default=DEFAULT_STORE,
                      help=f"the store's SQLite file (default: {DEFAULT_STORE})")
    runs.set_defaults(handler=_runs)

    resume = commands.add_parser(
        "resume", help="resume a run of a store",
        description="Resume a run journaled with --store. The store keeps the workflow's "
                    "name, not its code: give module:workflow as for run.")
    resume.add_argument("run_id", metavar="RUN_ID")
    resume.add_argument("target", metavar="module:workflow")
    resume.add_argument("--store", metavar="PATH", default=DEFAULT_STORE,
                        help=f"the store's SQLite file (default: {DEFAULT_STORE})")
    _inputs(resume, "-a", "--answer", "answer", "an answer to an ask step (step=value)")
    resume.add_argument("--rerun", action="append", default=[], metavar="STEP",
                        help="run STEP and the steps after it again, records or not; "
                             "repeat for more")
    resume.add_argument("--on-code-change", choices=("error", "rerun", "keep"),
                        default="error",
                        help="when steps changed since the run started: refuse (error, "
                             "the default), run them again (rerun) or keep their records")
    resume.add_argument("--force", action="store_true",
                        help="take the run over from an owner on another host")
    resume.add_argument("--json", action="store_true",
                        help="print the final state as one JSON object")
    resume.add_argument("--trace", metavar="PATH", help="write the run as Trace Event JSON")
    resume.add_argument("-j", "--max-concurrency", type=_positive, metavar="N")
    resume.add_argument("--plain", action="store_true")
    resume.set_defaults(handler=_resume)

    commands.add_parser("lint", help="spectra-lint (every argument after `lint` is its)",
                        add_help=False)
    return parser


def _inputs(parser: argparse.ArgumentParser, short: str, long: str, dest: str,
            what: str) -> None:
    parser.add_argument(short, long, dest=dest, action="append", default=[],
                        metavar="KEY=VALUE",
                        help=f"{what}; VALUE is read as JSON when it parses (3, true, "
                             "[1,2]), as a string otherwise; repeat for more")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number of steps >= 1, not {text!r}")
    return value


# -- spectra run / resume ----------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    given = parse_pairs(args.input, "input", "-i")
    inputs = {} if args.inputs is None else read_inputs(args.inputs)
    inputs.update(given)
    if args.store is None and args.run_id is not None:
        raise UsageError("--run-id names a run in a store: give --store PATH too")
    if args.store is not None and args.output:
        raise UsageError("--output runs only part of a workflow, which a store cannot "
                         "journal yet: give one of --output and --store")
    plan = load_plan(args.target)
    outputs = tuple(args.output) or None
    ran = plan if outputs is None else plan.for_outputs(outputs)  # OutputError here
    ran.check_inputs(inputs, plan, outputs or ())  # InputError before anything runs

    def start(on_event: OnEvent, store: Any) -> Awaitable[RunResult]:
        if store is None:
            return plan.run(inputs, outputs=outputs, max_concurrency=args.max_concurrency,
                            on_event=on_event)
        return plan.run(inputs, max_concurrency=args.max_concurrency, on_event=on_event,
                        store=store, run_id=args.run_id)

    return _execute(ran, start, args)


def _resume(args: argparse.Namespace) -> int:
    answers = parse_pairs(args.answer, "answer", "--answer")
    plan = load_plan(args.target)
    _check_run(args.store, args.run_id, plan)

    def start(on_event: OnEvent, store: Any) -> Awaitable[RunResult]:
        return plan.resume(args.run_id, store=store, answers=answers or None,
                           rerun=tuple(args.rerun), on_code_change=args.on_code_change,
                           force=args.force, max_concurrency=args.max_concurrency,
                           on_event=on_event)

    return _execute(plan, start, args)


def _check_run(path: str, run_id: str, plan: Plan) -> None:
    """Refuse a store file that does not exist, or a run of another workflow."""
    from .store import SqliteStore

    if not os.path.exists(path):
        raise UsageError(f"no store file '{path}'")
    with SqliteStore.open(path) as store:
        known = {r.run_id: r for r in store.runs()}
    record = known.get(run_id)
    if record is None:
        listing = ", ".join(sorted(known)) or "none"
        raise UsageError(f"store '{path}' has no run '{run_id}' (its runs: {listing}; "
                         f"spectra runs --store {path} lists them)")
    if record.workflow != plan.graph.name:
        raise UsageError(f"run '{run_id}' is of workflow '{record.workflow}', not "
                         f"'{plan.graph.name}': give the module:workflow it ran")


def _execute(plan: Plan, start: Callable[[OnEvent, Any], Awaitable[RunResult]],
             args: argparse.Namespace) -> int:
    """Run (or resume) with the live display on a terminal, then print the outcome."""
    progress = Progress(plan.graph.name, plan.names)
    console = _console(args)

    async def go() -> RunResult:
        if args.store is None:
            return await _displayed(progress, console, lambda: start(progress, None))
        from .store import SqliteStore

        async with SqliteStore.open(args.store) as store:
            return await _displayed(progress, console, lambda: start(progress, store))

    try:
        result = trio.run(go)
    except (ValueError, TypeError) as error:  # resume's answers=, rerun=: the user's
        if args.command != "resume":
            raise
        raise UsageError(str(error)) from error
    except StepFailed as error:
        if args.trace:
            error.to_chrome_trace(args.trace)
        run_id = getattr(error, "run_id", None)
        if run_id is None:
            raise
        raise Hinted(error, f"run id {run_id}: resume it with spectra resume {run_id} "
                            f"{args.target} --store {args.store}") from error
    except RunExistsError as error:
        raise Hinted(error, f"resume it with spectra resume {error.run_id} {args.target} "
                            f"--store {args.store}") from error
    except SpectraError as error:
        if type(error).__name__ != "AskWithoutAnswer" or args.store is not None:
            raise
        raise Hinted(error, "run it with --store runs.sqlite: the run then stops to wait "
                            "for the answers (exit status 3) and spectra resume "
                            "--answer STEP=VALUE gives them") from error
    if args.trace:
        result.to_chrome_trace(args.trace)
    out = sys.stdout
    out.write((state_json(result) if args.json else state_text(result)) + "\n")
    if getattr(args, "timeline", False) and not args.json:
        out.write(result.timeline() + "\n")
    out.flush()  # (the state before the summary on standard error)
    status = getattr(result, "status", "finished")
    run_id = getattr(result, "run_id", None)
    where = f" (run id {run_id})" if run_id else ""
    sys.stderr.write(f"spectra: {plan.graph.name} {status} in {result.duration:.2f}s"
                     f"{where}: {progress.summary()}, at most {result.peak_concurrency} "
                     f"at once\n")
    if status == "interrupted":
        pending: dict[str, Any] = dict(getattr(result, "pending", {}))
        for step, payload in pending.items():
            sys.stderr.write(f"spectra: step '{step}' asks: {payload!r}\n")
        answers = " ".join(f"--answer {step}=VALUE" for step in pending)
        sys.stderr.write(f"spectra: answer with spectra resume {run_id} {args.target} "
                         f"--store {args.store} {answers}\n")
        return EXIT_WAITING
    return EXIT_OK


def _console(args: argparse.Namespace) -> Any:
    """A rich console for the live display, or None for plain output (standard output
    is no terminal, ``--plain``, or rich is not installed)."""
    if args.plain or not sys.stdout.isatty():
        return None
    try:
        from rich.console import Console
    except ImportError:
        sys.stderr.write("spectra: no live progress display: rich is not installed "
                         "(pip install 'spectra-dsl[cli]')\n")
        return None
    return Console()


async def _displayed(progress: Progress, console: Any,
                     run: Callable[[], Awaitable[RunResult]]) -> RunResult:
    if console is None:
        return await run()
    return await shown(progress, console, run)


# -- spectra graph / runs ----------------------------------------------------------------


def _graph(args: argparse.Namespace) -> int:
    plan = load_plan(args.target)
    drawing = plan.to_mermaid() if args.format == "mermaid" else plan.to_dot()
    sys.stdout.write(drawing if drawing.endswith("\n") else drawing + "\n")
    return EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    from .store import SqliteStore

    if not os.path.exists(args.store):
        raise UsageError(f"no store file '{args.store}'")
    with SqliteStore.open(args.store) as store:
        rows = run_rows(store.runs())
    if sys.stdout.isatty():
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            pass
        else:
            table = Table(*RUN_COLUMNS)
            for row in rows:
                table.add_row(*row)
            Console().print(table)
            return EXIT_OK
    write_table(rows, RUN_COLUMNS, sys.stdout)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
