"""The ``spectra`` command, end to end: each test runs it in a subprocess (standard
output is a pipe there, so the output is the plain one) on a small workflow module
written to a temporary directory, which is the subprocess's current directory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spectra_dsl import Workflow

ROOT = Path(__file__).resolve().parents[2]

PIPELINE = '''
import trio
from spectra_dsl import Join, Workflow

wf = Workflow("pipeline")


@wf.step
async def fetch(url: str, retries: int) -> str:
    return f"{url}#{retries}"


@wf.step
async def size(fetch: str) -> int:
    await trio.sleep(0.05)  # (the two branches overlap: "at most 2 at once")
    return len(fetch)


@wf.step
async def words(fetch: str) -> list[str]:
    await trio.sleep(0.05)
    return fetch.split("#")


@wf.step(join=Join.ALL)
async def report(size: int, words: list[str]) -> dict[str, object]:
    return {"size": size, "words": words}


plan = wf.compile()
'''

FAILING = '''
from spectra_dsl import Workflow

wf = Workflow("failing")


@wf.step
async def fetch(url: str) -> str:
    return url


@wf.step
async def parse(fetch: str) -> int:
    raise ValueError(f"cannot parse {fetch!r}")
'''

MAPPED = '''
import trio
from spectra_dsl import Workflow

wf = Workflow("mapped")


@wf.step
async def items(n: int) -> list[int]:
    return list(range(n))


@wf.step(map="items")
async def square(items: int) -> int:
    await trio.sleep(0.01)
    return items * items


@wf.step
async def total(square: list[int]) -> int:
    return sum(square)
'''


def spectra(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``spectra ARGS`` in ``cwd`` (as ``python -m spectra_dsl._cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "spectra_dsl._cli", *args], cwd=cwd, capture_output=True,
        text=True, timeout=120, env=_env(),
    )


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    # The subprocess finds spectra_dsl whether or not it is installed, but not the
    # workflow modules of the repository: only its current directory holds those.
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def here(tmp_path: Path) -> Path:
    (tmp_path / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    (tmp_path / "failing.py").write_text(FAILING, encoding="utf-8")
    (tmp_path / "mapped.py").write_text(MAPPED, encoding="utf-8")
    return tmp_path


def test_run_prints_the_final_state_as_json(here: Path) -> None:
    done = spectra(here, "run", "pipeline:wf", "-i", "url=https://example.org",
                   "-i", "retries=3", "--json")
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)  # one JSON object, nothing else on stdout
    assert state == {
        "url": "https://example.org", "retries": 3, "fetch": "https://example.org#3",
        "size": 21, "words": ["https://example.org", "3"],
        "report": {"size": 21, "words": ["https://example.org", "3"]},
    }
    assert "pipeline finished" in done.stderr


def test_inputs_are_json_when_they_parse_and_strings_otherwise(here: Path) -> None:
    done = spectra(here, "run", "pipeline:plan", "-i", 'url="3"', "-i", "retries=[1, 2]",
                   "--json")
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["url"] == "3" and state["retries"] == [1, 2]
    done = spectra(here, "run", "pipeline:plan", "-i", "url=hello world", "-i", "retries=x",
                   "--json")
    assert json.loads(done.stdout)["fetch"] == "hello world#x"


def test_plain_output_when_stdout_is_no_terminal(here: Path) -> None:
    done = spectra(here, "run", "pipeline:wf", "-i", "url=u", "-i", "retries=1")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == sorted([  # (size and words race)
        'url: "u"', "retries: 1", 'fetch: "u#1"', "size: 3", 'words: ["u", "1"]',
        'report: {"size": 3, "words": ["u", "1"]}',
    ])
    assert "\x1b[" not in done.stdout + done.stderr  # no escape codes, no live display
    assert "4/4 done" in done.stderr and "at most 2 at once" in done.stderr


def test_a_module_alone_names_its_only_workflow_and_a_file_path_works(here: Path) -> None:
    (here / "single.py").write_text(FAILING.replace("raise ValueError", "return 1 or"),
                                    encoding="utf-8")
    done = spectra(here, "run", "single", "-i", "url=u", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["parse"] == 1
    done = spectra(here, "run", str(here / "mapped.py") + ":mapped", "-i", "n=4", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == 14  # the workflow named by its name


def test_a_mapped_step_runs_with_a_limit(here: Path) -> None:
    done = spectra(here, "run", "mapped:wf", "-i", "n=10", "-j", "3", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == 285
    assert "at most 3 at once" in done.stderr


def test_a_failing_step_exits_1_naming_the_step_and_cause_and_still_traces(
    here: Path,
) -> None:
    done = spectra(here, "run", "failing:wf", "-i", "url=x", "--trace", "run.json")
    assert done.returncode == 1
    assert done.stdout == ""
    last = done.stderr.splitlines()[-1]
    assert last == "spectra: step 'parse' failed: ValueError: cannot parse 'x'"
    assert 'failing.py", line 14, in parse' in done.stderr  # where the step raised
    trace = json.loads((here / "run.json").read_text(encoding="utf-8"))
    names = {e.get("name") for e in trace["traceEvents"]}
    assert {"fetch", "parse"} <= names


def test_trace_writes_valid_trace_event_json(here: Path) -> None:
    done = spectra(here, "run", "pipeline:wf", "-i", "url=u", "-i", "retries=1",
                   "--trace", "run.json")
    assert done.returncode == 0, done.stderr
    trace = json.loads((here / "run.json").read_text(encoding="utf-8"))
    slices = [e for e in trace["traceEvents"] if e.get("ph") == "X"]
    assert {e["name"] for e in slices} >= {"fetch", "size", "words", "report"}


@pytest.mark.parametrize(("target", "says"), [
    ("nowhere:wf", "spectra: error: no module named 'nowhere'"),
    ("pipeline:nothing", "spectra: error: module 'pipeline' has no workflow 'nothing'; "
                         "it has: pipeline:wf ('pipeline'), pipeline:plan ('pipeline')"),
    ("pipeline:trio", "spectra: error: 'pipeline:trio' is module, not a Workflow or a Plan"),
    ("pipeline", "spectra: error: say which workflow of 'pipeline' to use, as pipeline:NAME"),
    ("missing.py:wf", "spectra: error: no file 'missing.py'"),
])
def test_an_unknown_module_or_workflow_is_a_clear_error(
    here: Path, target: str, says: str
) -> None:
    done = spectra(here, "run", target, "-i", "url=u")
    assert done.returncode == 2
    assert done.stderr.startswith(says)
    assert "Traceback" not in done.stderr


def test_missing_and_unknown_inputs_are_the_input_errors_message(here: Path) -> None:
    done = spectra(here, "run", "pipeline:wf", "-i", "url=u", "-i", "retry=3")
    assert done.returncode == 2
    assert done.stderr.startswith("spectra: error: workflow 'pipeline' cannot start:\n"
                                  "  missing input 'retries', needed by step 'fetch'")
    assert "unknown input 'retry'" in done.stderr and "Traceback" not in done.stderr
    done = spectra(here, "run", "pipeline:wf", "-i", "url")
    assert done.returncode == 2 and "-i takes input=VALUE" in done.stderr
    done = spectra(here, "run", "pipeline:wf", "-i", "url=a", "-i", "url=b")
    assert done.returncode == 2 and "input 'url' is given twice" in done.stderr


def test_a_module_that_raises_on_import_shows_its_traceback(here: Path) -> None:
    (here / "broken.py").write_text("import json\nraise RuntimeError('no config')\n",
                                    encoding="utf-8")
    done = spectra(here, "run", "broken:wf")
    assert done.returncode == 1
    assert "RuntimeError: no config" in done.stderr and "Traceback" in done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        "spectra: error: importing 'broken' raised RuntimeError: no config")


def test_graph_prints_the_plans_drawing(here: Path) -> None:
    sys.path.insert(0, str(here))
    try:
        import pipeline  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(here))
        sys.modules.pop("pipeline", None)
    workflow = pipeline.wf
    assert isinstance(workflow, Workflow)
    plan = workflow.compile()
    mermaid = spectra(here, "graph", "pipeline:wf")
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout == plan.to_mermaid().rstrip("\n") + "\n"
    dot = spectra(here, "graph", "pipeline:plan", "--format", "dot")
    assert dot.stdout == plan.to_dot().rstrip("\n") + "\n"


def test_graph_of_the_main_example_equals_its_plans() -> None:
    from examples.parallel_analysis import wf

    done = spectra(ROOT, "graph", "examples.parallel_analysis:wf")
    assert done.returncode == 0, done.stderr
    assert done.stdout == wf.compile().to_mermaid().rstrip("\n") + "\n"


def test_lint_is_spectra_lint(here: Path) -> None:
    (here / "racy.py").write_text(textwrap.dedent('''
        from spectra_dsl import Workflow

        wf = Workflow("racy")


        @wf.step
        async def a(x: int) -> int:
            return x


        @wf.step
        async def b(x: int) -> int:
            return x


        @wf.step
        async def c(a: int, b: int) -> int:
            return a + b
    '''), encoding="utf-8")
    done = spectra(here, "lint", "racy.py")
    lint = subprocess.run([sys.executable, "-m", "compiler.lint", "racy.py"], cwd=here,
                          capture_output=True, text=True, env=_env())
    assert done.returncode == lint.returncode == 1
    assert "SPX101" in done.stdout and done.stdout == lint.stdout
    assert spectra(here, "lint", "--list-codes").returncode == 0


def test_no_command_prints_the_usage(here: Path) -> None:
    done = spectra(here)
    assert done.returncode == 2 and "run" in done.stderr and "graph" in done.stderr


def test_import_spectra_dsl_does_not_import_rich() -> None:
    code = "import sys, spectra_dsl; print('rich' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env())
    assert done.stdout.strip() == "False"


def test_the_readme_shows_the_main_examples_graph_and_the_line_that_runs_it() -> None:
    import shlex

    from examples.parallel_analysis import wf

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## See it\n", 1)[1].split("\n## ", 1)[0]
    drawing = section.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert drawing == wf.compile().to_mermaid()
    line = section.split("```sh\n", 1)[1].split("```", 1)[0].strip()
    command = shlex.split(line)
    assert command[:2] == ["spectra", "run"]
    done = spectra(ROOT, *command[1:])
    assert done.returncode == 0, done.stderr
    assert '"entities": ["Ada Lovelace", "Charles Babbage", "Analytical Engine"]' in done.stdout
    assert "ran together with: entities" in done.stdout  # the timeline


def test_output_runs_only_what_it_needs(here: Path) -> None:
    done = spectra(here, "run", "pipeline:wf", "-i", "url=u", "-i", "retries=1",
                   "-o", "size", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"url": "u", "retries": 1, "fetch": "u#1", "size": 3}
    assert "2/2 done" in done.stderr
    unknown = spectra(here, "run", "pipeline:wf", "-i", "url=u", "-o", "sise")
    assert unknown.returncode == 2 and "'sise'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_inputs_from_a_json_file_or_standard_input_and_i_overrides(here: Path) -> None:
    (here / "in.json").write_text('{"url": "u", "retries": [1, 2]}', encoding="utf-8")
    done = spectra(here, "run", "pipeline:wf", "--inputs", "in.json", "-i", "url=v",
                   "--json")
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["url"] == "v" and state["retries"] == [1, 2]
    piped = subprocess.run(
        [sys.executable, "-m", "spectra_dsl._cli", "run", "pipeline:wf", "--inputs", "-",
         "--json"], cwd=here, input='{"url": "w", "retries": 0}', capture_output=True,
        text=True, timeout=120, env=_env())
    assert json.loads(piped.stdout)["fetch"] == "w#0"
    (here / "list.json").write_text("[1]", encoding="utf-8")
    wrong = spectra(here, "run", "pipeline:wf", "--inputs", "list.json")
    assert wrong.returncode == 2
    assert "--inputs file 'list.json' holds list: give one JSON object" in wrong.stderr
    missing = spectra(here, "run", "pipeline:wf", "--inputs", "nope.json")
    assert missing.returncode == 2 and "cannot read --inputs file 'nope.json'" in missing.stderr
