"""Defects found by hostile testing of spectra-lint (issue 7), one regression test each."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from compiler.lint import _source, lint_paths, lint_source, main

from .parity import both, codes, write_modules

DSL = "from spectra_dsl import Workflow\n"


def _codes(path: Path) -> list[str]:
    return [d.code for d in lint_paths([str(path)]).diagnostics]


# -- files that are no regular files, or too large to read --------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_named_like_a_module_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "flow.py").write_text(DSL + "wf = Workflow('w', steps=[missing])\n")
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(lint_paths([str(tmp_path)])),
                              daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # unblock the reader before failing, so the run can end
        with open(tmp_path / "pipe.py", "w"):
            pass
        pytest.fail("spectra-lint blocked on a FIFO")
    (result,) = outcome
    assert isinstance(result, type(lint_paths([])))
    found = {Path(d.location.file).name: d for d in result.diagnostics if d.location}
    assert found["pipe.py"].code == "SPX901"
    assert "not a regular file" in found["pipe.py"].message
    assert found["flow.py"].code == "SPX902"  # the other files are still checked


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_symlink_to_dev_zero_is_not_read(tmp_path: Path) -> None:
    os.symlink("/dev/zero", tmp_path / "zero.py")
    (found,) = lint_paths([str(tmp_path)]).diagnostics
    assert found.code == "SPX901" and "not a regular file" in found.message


def test_a_file_over_the_size_cap_is_not_read(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_source, "MAX_FILE_BYTES", 1024)
    (tmp_path / "big.py").write_text(DSL + "#" * 2048 + "\n")
    (found,) = lint_paths([str(tmp_path)]).diagnostics
    assert found.code == "SPX901"
    assert "larger than" in found.message and "--extend-exclude" in found.message


# -- file names that are not valid UTF-8 ----------------------------------------------------

BAD_NAME = b"flow_\xff.py"


@pytest.fixture
def badly_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if sys.platform in ("darwin", "win32"):
        pytest.skip("the file system refuses names that are not UTF-8")
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, BAD_NAME), "w") as handle:
        handle.write(DSL + "wf = Workflow('w', steps=[missing])\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_a_file_name_that_is_not_utf8_in_every_format(
        badly_named: Path, fmt: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["--isolated", "--format", fmt, "."]) == 1
    out = capsysbinary.readouterr().out.decode("utf-8")  # strict: valid UTF-8
    assert "SPX902" in out
    if fmt == "sarif":
        (result,) = json.loads(out)["runs"][0]["results"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "flow_%FF.py"
    elif fmt == "json":
        assert json.loads(out)[0]["path"] == "flow_\\xff.py"
    else:
        assert "flow_\\xff.py" in out


def test_a_file_name_that_is_not_utf8_to_an_output_file(
        badly_named: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--isolated", "--format", "sarif", "-o", "report.sarif", "."]) == 1
    log = json.loads((badly_named / "report.sarif").read_text(encoding="utf-8"))
    assert len(log["runs"][0]["results"]) == 1
    assert "1 warning" in capsys.readouterr().err


# -- modules that never name the DSL --------------------------------------------------------


def test_a_module_that_never_names_the_dsl_is_not_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data.py").write_text("x = [\n" + "1,\n" * 10_000)  # and broken
    (tmp_path / "flow.py").write_text(DSL + "wf = Workflow('w')\n")
    parsed: list[str] = []
    real = _source.parse

    def spy(path: str, text: str) -> _source.Source:
        parsed.append(Path(path).name)
        return real(path, text)

    monkeypatch.setattr(_source, "parse", spy)
    result = lint_paths([str(tmp_path)])
    assert result.diagnostics == () and len(result.files) == 2
    assert parsed == ["flow.py"]
    assert lint_source("def broken(:\n", "x.py") == ()


def test_a_module_that_changes_a_workflow_of_the_tree_is_still_read(tmp_path: Path) -> None:
    write_modules(tmp_path, {
        "__init__.py": "",
        "core.py": DSL + "wf = Workflow('w')\n",
        "more.py": "from .core import wf\n@wf.step\nasync def extra(x: int) -> int: ...\n",
    })
    found = lint_paths([str(tmp_path)]).diagnostics
    assert [(d.code, Path(d.location.file).name if d.location else "") for d in found] == [
        ("SPX902", "more.py")]


# -- what was not followed has no consequences ------------------------------------------------

LOOP = """\
from spectra_dsl import Join, Workflow, reducers
wf = Workflow("w", reducers={"log": reducers.append})
@wf.step
async def a(x: int) -> int: return x
for suffix in ("b", "c"):
    async def branch(a: int) -> dict[str, int]: return {}
    wf.step(branch, name=f"branch_{suffix}", writes=(f"branch_{suffix}", "log"))
@wf.step(join=Join.ALL)
async def merge(branch_b: int, branch_c: int) -> int: return branch_b
"""


def test_steps_registered_in_a_loop_give_no_follow_on_findings(tmp_path: Path) -> None:
    live, linted = both(tmp_path, "defect_loop", LOOP)
    assert live == []
    assert codes(linted) == {"SPX902"}  # not SPX202 (log unused) nor SPX103 (merge)
    (skip,) = linted
    assert "inside a 'for' block" in skip[-1]


def test_a_step_left_out_of_steps_gives_no_follow_on_findings(tmp_path: Path) -> None:
    _, linted = both(tmp_path, "defect_left_out", """\
from spectra_dsl import Join, Workflow, step
import random
@step
async def a(x: int) -> int: return x
b = random.choice([a])
@step(join=Join.ALL)
async def c(a: int, b: int) -> int: return a
wf = Workflow("w", steps=[a, b, c])
""")
    assert codes(linted) == {"SPX902"}


def test_a_factory_that_adds_a_module_level_sub_workflow_is_checked(tmp_path: Path) -> None:
    live, linted = both(tmp_path, "defect_factory", textwrap.dedent("""\
        from spectra_dsl import Workflow
        inner = Workflow("inner")
        @inner.step
        async def refine(draft: str) -> str: return draft
        def build() -> Workflow:
            wf = Workflow("outer")
            @wf.step
            async def draft(x: str) -> str: return x
            @wf.step
            async def other(x: str) -> str: return x
            wf.add(inner, name="loop", writes="refine")
            @wf.step
            async def final(refine: str, other: str) -> str: return refine
            return wf
        wf = build()
        """))
    assert codes(live) == {"SPX101"}
    assert linted == live


def test_a_folder_given_inside_a_default_excluded_one_is_walked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / ".venv" / "lib" / "site-packages"
    inside.mkdir(parents=True)
    (inside / "flow.py").write_text(DSL + "wf = Workflow('w', steps=[missing])\n")
    (inside / "build").mkdir()
    (inside / "build" / "other.py").write_text(DSL + "wf = Workflow('w', steps=[gone])\n")
    monkeypatch.chdir(tmp_path)
    result = lint_paths([".venv/lib/site-packages"])
    assert [Path(f).name for f in result.files] == ["flow.py"]  # build/ is still skipped
    assert lint_paths(["."]).files == ()


def test_a_reducer_that_is_not_followed_gives_no_racing_writers(tmp_path: Path) -> None:
    live, linted = both(tmp_path, "defect_reducers", """\
from spectra_dsl import Workflow, reducers
def chosen():
    return {"log": reducers.append}
wf = Workflow("w", reducers=chosen())
@wf.step(writes="log")
async def a(x: int) -> int: return x
@wf.step(writes="log")
async def b(x: int) -> int: return x
""")
    assert live == []
    assert codes(linted) == {"SPX902"}  # not SPX201: 'log' has a reducer after all
