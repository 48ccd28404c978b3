"""Adversarial tests for spectra-lint: does the static front end find what
``Workflow.check()`` finds (same code, steps, line and column), never crash or hang, and
report what it cannot follow as SPX902 instead of guessing?

Each parity test writes a small workflow module to ``tmp_path``, imports it (cleaning
``sys.modules`` afterwards), and compares the live findings with the linter's.  The
first section holds the bugs these tests found (all fixed); the others pin down tricky
cases that work.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compiler.lint import main

from .parity import assert_parity, both, codes
from .parity import write_modules as _write

FAN_IN_HEAD = """\
from spectra_dsl import Workflow, Join, step
wf = Workflow("w")
@wf.step
def a(x: int) -> int: return x
@wf.step
def b(x: int) -> int: return x
"""


# -- bugs found here (fixed: each test now asserts the fix) --------------------------------


def test_constant_rebound_after_use(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_rebound_const", FAN_IN_HEAD + """\
J = Join.ALL
@wf.step(join=J)
def c(a: int, b: int) -> int: return a
J = Join.ANY
""")
    assert found == []


def test_step_redefined_after_workflow(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_redefined", """\
from spectra_dsl import Workflow, Join, step
@step
def a(x: int) -> int: return x
@step
def b(x: int) -> int: return x
@step
def c(a: int, b: int) -> int: return a
wf = Workflow("w", steps=[a, b, c])
@step(join=Join.ALL)
def c(a: int, b: int) -> int: return a
""")
    assert codes(found) == {"SPX101"}


def test_step_called_as_a_statement(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_step_call", """\
from spectra_dsl import Workflow, Join, step
def a(x: int) -> int: return x
def b(x: int) -> int: return x
def c(a: int, b: int) -> int: return a
step(join=Join.ALL)(c)
wf = Workflow("w", steps=[a, b, c])
""")
    assert found == []


def test_workflow_alias_is_followed_or_reported(tmp_path: Path) -> None:
    live, linted = both(tmp_path, "adv_alias", FAN_IN_HEAD + """\
w2 = wf
@w2.step
def c(a: int, b: int) -> int: return a
""")
    assert "SPX101" in codes(live)
    assert codes(linted) & {"SPX101", "SPX902"}


def test_mutated_steps_list_is_followed_or_reported(tmp_path: Path) -> None:
    live, linted = both(tmp_path, "adv_append", """\
from spectra_dsl import Workflow, step
@step
def a(x: int) -> int: return x
@step
def b(x: int) -> int: return x
@step
def c(a: int, b: int) -> int: return a
STEPS = [a, b]
STEPS.append(c)
wf = Workflow("w", steps=STEPS)
""")
    assert "SPX101" in codes(live)
    assert codes(linted) & {"SPX101", "SPX902"}


def test_cache_decorator_under_step(tmp_path: Path) -> None:
    live, linted = both(tmp_path, "adv_cache", """\
import functools
from spectra_dsl import Workflow
wf = Workflow("w")
@wf.step
@functools.cache
def a(x: int) -> int: return x
""")
    assert codes(live) == {"SPX001"}
    assert codes(linted) & {"SPX001", "SPX902"}


def test_unknown_decorator_under_step_is_reported(tmp_path: Path) -> None:
    live, linted = both(tmp_path, "adv_deco", """\
from spectra_dsl import Workflow
def deco(fn):
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner
wf = Workflow("w")
@wf.step
@deco
def a(x: int) -> int: return x
""")
    assert codes(live) == {"SPX001"}
    assert linted == live or "SPX902" in codes(linted)


def test_curried_wf_step_call(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_curried", """\
from spectra_dsl import Workflow
wf = Workflow("w")
def a(x: int) -> int: return x
def b(x: int) -> int: return x
def c(a: int, bee: int) -> int: return a
wf.step(a)
wf.step(name="bee")(b)
wf.step(c)
""")
    assert codes(found) == {"SPX101"}


def test_bare_wf_step_over_another_workflows_step(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_two_wf", """\
from spectra_dsl import Workflow, Join
one = Workflow("one")
two = Workflow("two")
@one.step
def a(x: int) -> int: return x
@one.step
def b(x: int) -> int: return x
@two.step
@one.step(join=Join.ALL)
def c(a: int, b: int) -> int: return a
""")
    assert codes(found) == {"SPX103"}


def test_type_alias_in_return_annotation(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_alias_type", """\
from spectra_dsl import Workflow
Num = int
wf = Workflow("w")
@wf.step
def a(x: int) -> Num: return x
@wf.step
def b(a: str) -> str: return a
""")
    assert codes(found) == {"SPX301"}


def test_imported_typed_dict_return(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_td_import", """\
from spectra_dsl import Workflow
from adv_tds import Out
wf = Workflow("w")
@wf.step(writes=("p", "q"))
def a(x: int) -> Out: return {"p": 1, "q": 2}
@wf.step
def b(p: str) -> str: return p
""", {"adv_tds.py": """\
from typing import TypedDict
class Out(TypedDict):
    p: int
    q: int
"""})
    assert codes(found) == {"SPX301"}


def test_typed_dict_not_required_field(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_td_notreq", """\
from typing_extensions import TypedDict, NotRequired
from spectra_dsl import Workflow
class Out(TypedDict):
    p: NotRequired[int]
    q: int
wf = Workflow("w")
@wf.step(writes=("p", "q"))
def a(x: int) -> Out: return {"p": 1, "q": 2}
@wf.step
def b(p: str) -> str: return p
""")
    assert codes(found) == {"SPX301"}


def test_huge_power_does_not_hang(tmp_path: Path) -> None:
    source = tmp_path / "adv_pow.py"
    source.write_text(textwrap.dedent("""\
        from spectra_dsl import Workflow
        wf = Workflow("w")
        @wf.step(timeout=9 ** 9 ** 9)
        def a(x: int) -> int: return x
        """), encoding="utf-8")
    code = ("import sys; from compiler.lint import lint_paths; "
            "r = lint_paths([sys.argv[1]]); print(len(r.diagnostics))")
    try:
        done = subprocess.run([sys.executable, "-c", code, str(source)], timeout=5,
                              capture_output=True, text=True,
                              cwd=Path(__file__).parents[2], check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("spectra-lint did not finish within 5 seconds")
    assert done.returncode == 0, done.stderr


# -- tricky cases that work -----------------------------------------------------------------


def test_join_imported_under_an_alias(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_join_alias", """\
import spectra_dsl as sd
from spectra_dsl import Join as J
wf = sd.Workflow("w")
@wf.step
def a(x: int) -> int: return x
@wf.step
def b(x: int) -> int: return x
@wf.step(join=J.ALL)
def c(a: int, b: int) -> int: return a
@wf.step(join=sd.Join.ANY)
def d(a: int, b: int) -> int: return a
""")
    assert codes(found) == {"SPX102"}


def test_empty_wf_step_call_drops_the_join_of_step_below(tmp_path: Path) -> None:
    # @wf.step() (called, no options) does not keep what @step recorded; @wf.step does
    found = assert_parity(tmp_path, "adv_empty_call", FAN_IN_HEAD + """\
@wf.step()
@step(join=Join.ALL)
def c(a: int, b: int) -> int: return a
@wf.step
@step(join=Join.ALL)
def d(a: int, b: int) -> int: return a
""")
    assert [f[:2] for f in found] == [("SPX101", ("c", "a", "b"))]


def test_bare_wf_step_keeps_name_from_step_below(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_keep_name", FAN_IN_HEAD + """\
@wf.step
@step(name="bee")
def b2(x: int) -> int: return x
@wf.step
def c(a: int, bee: int) -> int: return a
""")
    assert [f[:2] for f in found] == [("SPX101", ("c", "a", "bee"))]


def test_name_and_writes_through_constants(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_consts", """\
from spectra_dsl import Workflow
NAME = "alpha"
KEYS = ("k1", "k2")
wf = Workflow("w")
@wf.step(name=NAME, writes=KEYS)
def a(x: int) -> dict: return {}
@wf.step(writes="k1")
def b(x: int) -> int: return x
@wf.step
def c(k2: int, alpha: int) -> int: return 1
""")
    assert codes(found) == {"SPX003", "SPX201"}


def test_wraps_decorator_keeps_parity(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_wraps", FAN_IN_HEAD + """\
import functools
def deco(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner
@wf.step
@deco
def c(a: int, b: int) -> int: return a
""")
    assert codes(found) == {"SPX101"}


def test_parameter_kinds_and_generators(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_kinds", """\
from spectra_dsl import Workflow
wf = Workflow("w")
@wf.step
async def a(x: int, /):
    yield 1
@wf.step
def b(*args):
    yield 2
@wf.step
def c(a, /, *rest, b, **kw) -> int: return 1
""")
    assert codes(found) == {"SPX001", "SPX101"}


def test_retry_positional_and_timeouts(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_retry", """\
from spectra_dsl import Workflow, Retry
T = 2 * 3
wf = Workflow("w")
@wf.step(retry=Retry(0), timeout=-1)
def a(x: int) -> int: return x
@wf.step(retry=Retry(3, -1.0))
def b(x: int) -> int: return x
@wf.step(retry=Retry(attempts=2, backoff=1, factor=0.5), timeout=0)
def c(x: int) -> int: return x
@wf.step(timeout=T)
def d(x: int) -> int: return x
""")
    assert codes(found) == {"SPX403"}


def test_factory_function_with_async_step_column(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_factory", """\
from spectra_dsl import Workflow
def build() -> Workflow:
    wf = Workflow("fac")
    @wf.step
    def a(x: int) -> int: return x
    @wf.step
    def b(x: int) -> int: return x
    @wf.step
    async def c(a: int, b: int) -> int: return a
    return wf
wf = build()
""")
    assert [(f[0], f[2], f[3]) for f in found] == [("SPX101", 9, 5)]


def test_loops_and_reducer_locations(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_loops", """\
from spectra_dsl import Workflow, Repeat, match, reducers
inner = Workflow("inner")
@inner.step
def refine(draft: str) -> str: return draft
outer = Workflow(
    "outer",
    reducers={"nobody": reducers.append},
)
@outer.step
def draft(x: str) -> str: return x
outer.add(inner, name="loop", writes="refine",
          repeat=Repeat(until=match(good=True), max_iterations=0))
outer.add(inner, name="loop2", writes={"refine": "r2"}, repeat=Repeat(lambda refine: True))
""")
    assert codes(found) == {"SPX202", "SPX401", "SPX402"}


def test_steps_imported_from_a_package_with_imported_constants(tmp_path: Path) -> None:
    found = assert_parity(tmp_path, "adv_pkg", """\
from spectra_dsl import Workflow
import adv_pkgx.steps as S
wf = Workflow("w", steps=[S.a, S.b, S.c])
""", {"adv_pkgx/__init__.py": "", "adv_pkgx/consts.py": """\
from spectra_dsl import Join
JOIN = Join.ANY
""", "adv_pkgx/steps.py": """\
from spectra_dsl import step
from .consts import JOIN
@step
def a(x: int) -> int: return x
@step
def b(x: int) -> int: return x
@step(join=JOIN)
def c(a: int, b: int = 0) -> int: return a
"""})
    assert [(f[0], f[1], f[4]) for f in found] == [("SPX102", ("c", "a"), "steps.py")]


def test_cli_noqa_on_first_line_of_a_multiline_def_and_exit_codes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, {"flow.py": FAN_IN_HEAD + """\
@wf.step
def c(a: int,  # noqa: SPX101
      b: int) -> int: return a
@wf.step
def d(a: int, b: int) -> int: return a
"""})
    flow = str(tmp_path / "flow.py")
    assert main(["--isolated", flow]) == 1
    out = capsys.readouterr().out
    assert "SPX101 step 'd'" in out and "step 'c'" not in out
    assert main(["--isolated", "--format", "xml", flow]) == 2
    assert main(["--isolated", "--select", "SPX9", flow]) == 0
    assert main(["--isolated", "--select", "X1", flow]) == 2
    assert main(["--isolated", str(tmp_path / "missing.py")]) == 1
    assert "SPX901" in capsys.readouterr().out


def test_noqa_needs_the_spx_prefix(tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    # a noqa code S (flake8-bandit) or SP does not silence spectra-lint
    _write(tmp_path, {"flow.py": FAN_IN_HEAD + """\
@wf.step
def c(a: int, b: int) -> int: return a  # noqa: S
@wf.step
def d(a: int, b: int) -> int: return a  # noqa: SP,E501
@wf.step
def e(a: int, b: int) -> int: return a  # noqa: SPX
@wf.step
def f(a: int, b: int) -> int: return a  # noqa: S101, SPX1
"""})
    assert main(["--isolated", str(tmp_path / "flow.py")]) == 1
    out = capsys.readouterr().out
    assert "step 'c'" in out and "step 'd'" in out
    assert "step 'e'" not in out and "step 'f'" not in out


# -- regressions around the fixes above -----------------------------------------------------

MARKED_HEAD = """\
from spectra_dsl import Workflow, Join, step
@step
def a(x: int) -> int: return x
@step
def b(x: int) -> int: return x
@step
def c(a: int, b: int) -> int: return a
"""


@pytest.mark.parametrize("tail", [
    "STEPS = [a]\nSTEPS += [b, c]\nwf = Workflow('w', steps=STEPS)\n",
    "STEPS = (a,)\nSTEPS += (b, c)\nwf = Workflow('w', steps=STEPS)\n",
    "STEPS = [a]\nMORE = [b]\nMORE.append(c)\nSTEPS.extend(MORE)\n"
    "wf = Workflow('w', steps=STEPS)\n",
    "STEPS = [a, b]\nwf = Workflow('w', steps=STEPS)\nSTEPS.append(c)\n",
    "c2 = step(join=Join.ALL)(c)\nwf = Workflow('w', steps=[a, b, c2])\n",
    "step(c, join=Join.ANY)\nwf = Workflow('w', steps=[a, b, c])\n",
    "wf = Workflow('w', steps=[a, b, c])\nstep(join=Join.ALL)(c)\n",
])
def test_steps_lists_and_marking_statements(tmp_path: Path, tail: str) -> None:
    assert_parity(tmp_path, "adv_lists", MARKED_HEAD + tail)


@pytest.mark.parametrize("tail", [
    "STEPS = [a, b]\nSTEPS.insert(0, c)\nwf = Workflow('w', steps=STEPS)\n",
    "STEPS = [a, b]\nif STEPS:\n    STEPS.append(c)\nwf = Workflow('w', steps=STEPS)\n",
    "import sys\nif sys.platform:\n    @step(join=Join.ALL)\n"
    "    def c(a: int, b: int) -> int: return a\n"
    "wf = Workflow('w', steps=[a, b, c])\n",
])
def test_what_is_not_followed_is_reported(tmp_path: Path, tail: str) -> None:
    live, linted = both(tmp_path, "adv_unfollowed", MARKED_HEAD + tail)
    assert linted == live or "SPX902" in codes(linted)


@pytest.mark.parametrize("tail", [
    "@step(join=Join.ALL)\ndef c(a: int, b: int) -> int: return a\nwf.step()(c)\n",
    "@step(join=Join.ALL)\ndef c(a: int, b: int) -> int: return a\nwf.step(c)\n",
    "import functools\n@wf.step(join=Join.ALL)\n@functools.lru_cache(maxsize=None)\n"
    "def c(a: int, b: int) -> int: return a\n",
    "from functools import cache\n@wf.step\n@cache\ndef c(x: int) -> int: return x\n",
    "@wf.step\n@staticmethod\ndef c(x: int) -> int: return x\n",
    "def deco(fn):\n    return fn\n@wf.step\n@deco\ndef c(a: int, b: int) -> int: return a\n",
    "w2 = wf\nwf = Workflow('other')\n@w2.step\ndef c(a: int, b: int) -> int: return a\n"
    "@wf.step\ndef d(x: int) -> int: return x\n",
])
def test_registration_forms_keep_parity(tmp_path: Path, tail: str) -> None:
    assert_parity(tmp_path, "adv_forms", FAN_IN_HEAD + "from spectra_dsl import step\n" + tail)


@pytest.mark.parametrize("source,extra", [
    ("from typing import Optional\nfrom spectra_dsl import Workflow\nNum = int\n"
     "S = Optional[Num]\nwf = Workflow('w')\n@wf.step\ndef a(x: int) -> str: return ''\n"
     "@wf.step\ndef b(a: S) -> str: return ''\n", None),
    ("from __future__ import annotations\nfrom spectra_dsl import Workflow\nNum = int\n"
     "wf = Workflow('w')\n@wf.step\ndef a(x: int) -> Num: return x\n"
     "@wf.step\ndef b(a: str) -> str: return a\n", None),
    ("from spectra_dsl import Workflow\nNum = int\nwf = Workflow('w')\n@wf.step\n"
     "def a(x: int) -> Num: return x\nNum = str\n@wf.step\ndef b(a: Num) -> str: return a\n",
     None),
    ("from spectra_dsl import Workflow\nfrom adv_aliasmod import Num\nwf = Workflow('w')\n"
     "@wf.step\ndef a(x: int) -> Num: return x\n@wf.step\ndef b(a: str) -> str: return a\n",
     {"adv_aliasmod.py": "Num = int\n"}),
    ("from spectra_dsl import Workflow\nfrom adv_tdmod import Out2 as O\nwf = Workflow('w')\n"
     "@wf.step(writes=('p', 'q'))\ndef a(x: int) -> O: return {}\n@wf.step\n"
     "def b(p: str, q: str) -> str: return ''\n",
     {"adv_tdmod.py": "from adv_tdbase import Base\nclass Out2(Base):\n    q: 'int'\n",
      "adv_tdbase.py": "from typing import TypedDict, Annotated\nN = int\n"
                       "class Base(TypedDict):\n    p: Annotated[N, 'x']\n"}),
])
def test_annotations_keep_parity(tmp_path: Path, source: str,
                                 extra: dict[str, str] | None) -> None:
    assert codes(assert_parity(tmp_path, "adv_annot", source, extra)) <= {"SPX301"}
