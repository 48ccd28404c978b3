"""The spectra-lint command line as a user meets it: output, exit codes, options,
configuration, suppression and report formats."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest

from compiler.lint import main

FIXTURES = Path(__file__).parents[1] / "fixtures"
SCHEMA = FIXTURES / "sarif" / "sarif-schema-2.1.0-subset.json"

FORGOTTEN = textwrap.dedent(
    """\
    from spectra_dsl import Workflow

    wf = Workflow("w")


    @wf.step(writes="a")
    async def one(x: int) -> int:
        return x


    @wf.step(writes="b")
    async def two(x: int) -> int:
        return x


    @wf.step
    async def both(a: int, b: int) -> int:
        return a + b
    """
)
RACING = textwrap.dedent(
    """\
    from spectra_dsl import Workflow

    wf = Workflow("r")


    @wf.step(writes="log")
    async def one(x: int) -> int:
        return x


    @wf.step(writes="log")
    async def two(x: int) -> int:
        return x
    """
)
CLEAN = (
    'from spectra_dsl import Workflow\n\nwf = Workflow("c")\n\n\n'
    "@wf.step\nasync def a() -> int:\n    return 1\n"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "forgotten.py").write_text(FORGOTTEN)
    (tmp_path / "racing.py").write_text(RACING)
    (tmp_path / "clean.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_output_sorted_with_summary_and_exit_1(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, ".")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("forgotten.py:17:1: SPX101 step 'both' joins the branches")
    assert lines[1].startswith("racing.py:12:1: SPX201 steps 'one' and 'two'")
    assert len(lines) == 2
    assert "Found 2 errors and 0 warnings in 2 files (3 files checked)" in err


def test_clean_exit_0(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "clean.py")
    assert (code, out) == (0, "")
    assert "All checks passed (1 file checked)" in err


def test_default_path_is_the_current_folder(tree: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys)[0] == 1


def test_exit_zero(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--exit-zero", ".")
    assert code == 0
    assert "SPX101" in out


@pytest.mark.parametrize(
    ("options", "codes"),
    [
        (["--select", "SPX2"], ["SPX201"]),
        (["--ignore", "SPX2"], ["SPX101"]),
        (["--ignore", "forgotten-join"], ["SPX201"]),
        (["--select", "SPX1,SPX2", "--ignore", "SPX201"], ["SPX101"]),
        (["--extend-ignore", "SPX1"], ["SPX201"]),
        (["--ignore", "SPX", "--extend-select", "SPX101"], ["SPX101"]),
        (["--select", "ALL"], ["SPX101", "SPX201"]),
    ],
)
def test_select_and_ignore_by_prefix(tree: Path, capsys: pytest.CaptureFixture[str],
                                     options: list[str], codes: list[str]) -> None:
    _, out, _ = run(capsys, *options, ".")
    assert [line.split()[1] for line in out.splitlines()] == codes


def test_unknown_code_is_a_usage_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--select", "SPX999", ".")
    assert code == 2
    assert "'SPX999' matches no spectra-lint code" in err


def test_bad_option_is_a_usage_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--format", "xml", ".")
    assert code == 2
    assert "invalid choice" in err


def test_config_in_pyproject_walking_up(tree: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.spectra-dsl.lint]
        ignore = ["SPX101"]
        exclude = ["generated"]
        """))
    sub = tree / "src" / "pkg"
    sub.mkdir(parents=True)
    (sub / "flow.py").write_text(FORGOTTEN + RACING.replace("from spectra_dsl import "
                                                            "Workflow\n", ""))
    (tree / "generated").mkdir()
    (tree / "generated" / "racing.py").write_text(RACING)
    monkeypatch.chdir(sub)
    _, out, _ = run(capsys, ".")
    assert [line.split()[1] for line in out.splitlines()] == ["SPX201"]
    monkeypatch.chdir(tree)
    _, out, _ = run(capsys, ".")
    assert "generated" not in out
    # the command line wins over the file
    _, out, _ = run(capsys, "--ignore", "SPX2", ".")
    assert {line.split()[1] for line in out.splitlines()} == {"SPX101"}
    _, out, _ = run(capsys, "--isolated", ".")
    assert "generated/racing.py" in out


def test_bad_config_is_exit_2_naming_the_file(tree: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "pyproject.toml").write_text('[tool.spectra-dsl.lint]\nselec = ["SPX1"]\n')
    code, _, err = run(capsys, ".")
    assert code == 2
    assert "pyproject.toml" in err and "unknown key 'selec'" in err
    (tree / "pyproject.toml").write_text('[tool.spectra-dsl.lint]\nselect = "SPX1\n')
    code, _, err = run(capsys, ".")
    assert code == 2
    assert "invalid TOML" in err
    (tree / "pyproject.toml").write_text('[tool.spectra-dsl.lint]\nshow-source = "yes"\n')
    assert run(capsys, ".")[0] == 2


def test_noqa_on_the_def_line(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "forgotten.py").write_text(FORGOTTEN.replace(
        "async def both(a: int, b: int) -> int:",
        "async def both(a: int, b: int) -> int:  # noqa: SPX101"))
    _, out, err = run(capsys, "forgotten.py")
    assert out == ""
    assert "1 suppressed by noqa" in err


def test_noqa_for_another_code_does_not_suppress(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "forgotten.py").write_text(FORGOTTEN.replace(
        "async def both(a: int, b: int) -> int:",
        "async def both(a: int, b: int) -> int:  # noqa: E501"))
    assert "SPX101" in run(capsys, "forgotten.py")[1]


def test_file_level_noqa(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "forgotten.py").write_text("# spectra-lint: noqa\n" + FORGOTTEN)
    assert run(capsys, "forgotten.py")[:2] == (0, "")


def test_json_format(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json", ".")
    assert code == 1
    records = json.loads(out)
    assert records[0] == {
        "path": "forgotten.py", "line": 17, "column": 1, "code": "SPX101",
        "name": "forgotten-join", "severity": "error", "message": records[0]["message"],
        "steps": ["both", "one", "two"], "key": None, "workflow": "w",
    }
    assert [r["code"] for r in records] == ["SPX101", "SPX201"]


def test_github_format(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--format", "github", "forgotten.py")
    assert out.startswith(
        "::error file=forgotten.py,line=17,col=1,title=SPX101 (forgotten-join)::SPX101 step")


def test_sarif_format_validates_against_the_schema(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "sub").mkdir()
    (tree / "sub" / "broken file.py").write_text("import spectra_dsl\ndef (:\n")
    code, out, _ = run(capsys, "--format", "sarif", ".")
    assert code == 1
    log = json.loads(out)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(log, schema, format_checker=jsonschema.FormatChecker())
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run_["results"]]
    assert uris == ["forgotten.py", "racing.py", "sub/broken%20file.py"]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


def test_sarif_schema_rejects_what_github_would_reject() -> None:
    """The schema file is no rubber stamp: a result without a message is invalid."""
    schema = json.loads(SCHEMA.read_text())
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                          "results": [{"ruleId": "SPX101"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_show_source_and_statistics(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--show-source", "--statistics", ".")
    lines = out.splitlines()
    assert lines[1] == "    async def both(a: int, b: int) -> int:"
    assert lines[2] == "    ^"
    assert "1  SPX101  forgotten-join (error)" in lines
    assert "1  SPX201  racing-writers (error)" in lines


def test_output_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json", "-o", "report.json", ".")
    assert (code, out) == (1, "")
    assert len(json.loads((tree / "report.json").read_text())) == 2


def test_list_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--list-codes")
    assert code == 0
    assert "SPX101  forgotten-join" in out


def test_missing_path_is_spx901(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "nothing_here.py")
    assert code == 1
    assert out.startswith("nothing_here.py:1:1: SPX901 cannot read nothing_here.py")


def test_python_dash_m_compiler(tree: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "compiler", "forgotten.py"],
                          capture_output=True, text=True, cwd=tree, check=False,
                          env=None)
    assert done.returncode == 1
    assert "SPX101" in done.stdout


def test_exclude_applies_to_files_named_on_the_command_line(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "pyproject.toml").write_text('[tool.spectra-dsl.lint]\nexclude = ["gen"]\n')
    (tree / "gen").mkdir()
    (tree / "gen" / "flow.py").write_text(FORGOTTEN)
    code, out, err = run(capsys, "gen/flow.py", "clean.py")
    assert (code, out) == (0, "")
    assert "1 file checked" in err


def test_an_empty_code_list_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--select=", "examples"]) == 2
    assert "--select was given an empty value" in capsys.readouterr().err
    assert main(["--extend-ignore", " , ", "examples"]) == 2
