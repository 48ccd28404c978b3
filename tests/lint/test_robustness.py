"""spectra-lint never crashes on what it reads, and stays fast on big inputs."""

from __future__ import annotations

import ast
import builtins
import os
import time
from pathlib import Path
from typing import Any

import pytest

from compiler.lint import lint_paths, lint_source, main

HEADER = "from spectra_dsl import Join, Workflow\n\nwf = Workflow('big')\n"


def codes(result_or_found: Any) -> list[str]:
    found = getattr(result_or_found, "diagnostics", result_or_found)
    return [d.code for d in found]


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("")
    result = lint_paths([str(tmp_path)])
    assert result.diagnostics == ()
    assert len(result.files) == 1


def test_syntax_error_has_the_parsers_line_and_message(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import spectra_dsl\n\ndef broken(:\n    pass\n")
    (tmp_path / "good.py").write_text(HEADER + "@wf.step(writes='k')\nasync def a(x: int)"
                                      " -> int: ...\n@wf.step(writes='k')\nasync def b(x: int)"
                                      " -> int: ...\n")
    result = lint_paths([str(tmp_path)])
    first, second = result.diagnostics
    assert first.code == "SPX901"
    assert first.location is not None and first.location.line == 3
    assert "syntax error: invalid syntax" in first.message
    assert second.code == "SPX201"  # the other files are still checked


def test_non_utf8_bytes(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"import spectra_dsl\nx = '\xe9t\xe9'\n")
    (found,) = lint_paths([str(tmp_path)]).diagnostics
    assert found.code == "SPX901"
    assert "cannot decode" in found.message and "UTF-8" in found.message


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9t\xe9'\n")
    assert lint_paths([str(tmp_path)]).diagnostics == ()


def test_a_directory_named_like_a_module(tmp_path: Path) -> None:
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text("")
    assert lint_paths([str(tmp_path)]).diagnostics == ()  # walked as a folder
    result = lint_paths([str(tmp_path / "x.py")])
    assert result.diagnostics == ()


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    real_open = builtins.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(secret):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    (found,) = lint_paths([str(tmp_path)]).diagnostics
    assert found.code == "SPX901"
    assert found.message == (f"cannot read {secret}: Permission denied; check that it exists "
                             "and that you may read it")


def test_a_broken_symlink(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone.py", tmp_path / "link.py")
    assert codes(lint_paths([str(tmp_path / "link.py")])) == ["SPX901"]


@pytest.mark.parametrize(
    "source",
    [
        "import spectra_dsl\nx = " + "(" * 1000 + "1" + ")" * 1000,
        "import spectra_dsl\nx = " + "-" * 100_000 + "1",
        "import spectra_dsl\nx = " + "+".join(["1"] * 100_000),
        HEADER + "@wf.step(join=" + ".".join(["a"] * 50_000) + ")\nasync def s(): ...\n",
    ],
    ids=["parentheses", "unary", "sum", "attributes"],
)
def test_deeply_nested_expressions_are_spx901(source: str) -> None:
    """Where this Python's parser gives up, the file is SPX901; where it copes (3.10
    parses a 100,000-term sum), deeper passes must cope too: never a crash."""
    try:
        ast.parse(source)
    except (RecursionError, MemoryError, SyntaxError):
        (found,) = lint_source(source, "deep.py")
        assert found.code == "SPX901"
    else:
        assert "SPX901" not in codes(lint_source(source, "deep.py"))


def test_moderately_nested_option_is_followed_or_skipped() -> None:
    deep = "(" * 150 + "Join.ALL" + ")" * 150
    found = lint_source(HEADER + f"@wf.step(join={deep})\nasync def s(x: int): ...\n", "m.py")
    assert codes(found) == ["SPX103"]  # followed: parentheses are no nesting in the ast
    deeper = "[" * 150 + "]" * 150
    found = lint_source(HEADER + f"@wf.step(join={deeper})\nasync def s(x: int): ...\n",
                        "m.py")
    assert codes(found) == ["SPX902"]


def test_fifty_thousand_line_module(tmp_path: Path) -> None:
    filler = "".join(f"value_{i} = {i} * 2\n" for i in range(50_000))
    body = HEADER + filler + "@wf.step(writes='k')\nasync def a(x: int) -> int: ...\n" \
        "@wf.step(writes='k')\nasync def b(x: int) -> int: ...\n"
    (tmp_path / "huge.py").write_text(body)
    start = time.perf_counter()
    (found,) = lint_paths([str(tmp_path)]).diagnostics
    assert time.perf_counter() - start < 10
    assert found.code == "SPX201"
    assert found.location is not None and found.location.line == 3 + 50_000 + 4


def _chain(n: int) -> str:
    lines = [HEADER, "@wf.step\nasync def s0(seed: int) -> int: ...\n"]
    lines += [f"@wf.step\nasync def s{i}(s{i - 1}: int) -> int: ...\n" for i in range(1, n)]
    return "".join(lines)


def test_thousands_of_steps() -> None:
    start = time.perf_counter()
    assert lint_source(_chain(3000), "chain.py") == ()
    wide = HEADER + "@wf.step\nasync def source(seed: int) -> int: ...\n"
    wide += "".join(f"@wf.step\nasync def b{i}(source: int) -> int: ...\n"
                    for i in range(2000))
    wide += "@wf.step\nasync def join(" + ", ".join(f"b{i}: int" for i in range(2000)) + \
        ") -> int: ...\n"
    assert codes(lint_source(wide, "wide.py")) == ["SPX101"]
    assert time.perf_counter() - start < 20


def test_a_bug_is_exit_2_and_the_other_files_are_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("import spectra_dsl  # trigger\n")
    from compiler.lint._engine import lint_file as real

    def flaky(path: str, *args: Any, **kwargs: Any) -> Any:
        if path.endswith("b.py"):
            raise ValueError("boom")
        return real(path, *args, **kwargs)

    monkeypatch.setattr("compiler.lint._engine.lint_file", flaky)
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "internal error while checking" in err and "b.py: ValueError: boom" in err
    assert "2 files checked" in err


def test_import_cycles_between_modules(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "a.py").write_text("from .b import fetch, JOIN\n")
    (tmp_path / "b.py").write_text("from .a import fetch, JOIN\n")
    (tmp_path / "flow.py").write_text(
        "from spectra_dsl import Workflow, step\n"
        "from .a import fetch, JOIN\n"
        "@step(join=JOIN)\nasync def other(x: int) -> int: ...\n"
        "wf = Workflow('w', steps=[fetch, other])\n")
    result = lint_paths([str(tmp_path)])
    assert [(d.code, d.message.split(":")[0]) for d in result.diagnostics] == [
        ("SPX902", "step 'other'"), ("SPX902", "workflow 'w'")]
    assert result.internal_errors == ()


def test_steps_added_to_a_workflow_imported_from_another_module(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "core.py").write_text("from spectra_dsl import Workflow\nwf = Workflow('w')\n")
    (tmp_path / "more.py").write_text(
        "from spectra_dsl import reducers\n"
        "from .core import wf\n"
        "@wf.step\nasync def extra(x: int) -> int: ...\n"
        "wf.reducer('k', reducers.append)\n")
    found = lint_paths([str(tmp_path)]).diagnostics
    assert [(d.code, d.location.line if d.location else 0) for d in found] == [
        ("SPX902", 4), ("SPX902", 5)]
    assert "imported from another module" in found[0].message
