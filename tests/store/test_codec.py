"""Codecs: pickle stores any picklable value; strict JSON refuses what it would change;
a value that cannot be stored fails with the step and key named, on both stores."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl import ResumeError, SerializationError, SpectraError
from spectra_dsl.store import JsonCodec, JsonRefused, PickleCodec, SqliteStore, Store

from .conftest import MakeStore


class Color(IntEnum):
    RED = 1


def test_pickle_is_the_default_and_keeps_python_values_exactly(store: Store) -> None:
    assert store.codec == PickleCodec()
    store.create_run("r", workflow="wf", inputs={"when": (1, 2), "tags": {"a"}})
    value = {"t": (1, "x"), "s": frozenset({1, 2}), 3: b"raw", "nan": math.inf,
             "c": Color.RED}
    store.commit("r", [store.record("a", "finished", values={"a": value})])
    assert store.values(store.steps("r")[0]) == {"a": value}
    assert store.inputs("r") == {"when": (1, 2), "tags": {"a"}}


def test_a_value_pickle_cannot_store_names_the_step_and_key(store: Store) -> None:
    store.create_run("r", workflow="wf")
    store.commit("r", [store.record("early", "finished", values={"early": 1})])
    with pytest.raises(SerializationError) as caught:
        store.record("fetch", "finished",
                     values={"fine": 1, "page": threading.Lock(), "also": lambda: 1})
    error = caught.value
    assert (error.step, error.key, error.decoding) == ("fetch", "page", False)
    assert isinstance(error, SpectraError)
    assert isinstance(error.__cause__, TypeError)
    assert "key 'page' written by step 'fetch'" in str(error)
    assert "durable=False" in str(error)
    assert [r.step for r in store.steps("r")] == ["early"]  # earlier records kept


def test_an_input_that_cannot_be_stored_names_the_input_and_no_run_is_made(
    store: Store,
) -> None:
    with pytest.raises(SerializationError) as caught:
        store.create_run("r", workflow="wf", inputs={"ok": 1, "lock": threading.Lock()})
    assert (caught.value.step, caught.value.key) == (None, "lock")
    assert "input 'lock' of the run" in str(caught.value)
    assert store.runs() == []


def test_an_ask_payload_that_cannot_be_stored_names_the_step(store: Store) -> None:
    with pytest.raises(SerializationError) as caught:
        store.record("approve", "asked", payload=threading.Lock())
    assert (caught.value.step, caught.value.key) == ("approve", "payload")


def test_a_stored_value_that_cannot_be_read_back_says_so(store: Store) -> None:
    store.create_run("r", workflow="wf")
    store.commit("r", [store.record("a", "finished", values={"a": 1})])
    record = store.steps("r")[0]
    broken = type(record)(run_id="r", scope=(), step="a", item=None, status="finished",
                          values={"a": b"not a pickle"})
    with pytest.raises(SerializationError) as caught:
        store.values(broken)
    assert caught.value.decoding and caught.value.key == "a"
    assert "cannot be read back" in str(caught.value)


# -- strict JSON ---------------------------------------------------------------------

JSON_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                           allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                 max_size=4),
    max_leaves=12)


@settings(max_examples=60)
@given(value=JSON_PLAIN)
def test_json_round_trips_plain_data_exactly_with_its_types(value: Any) -> None:
    codec = JsonCodec()
    back = codec.decode(codec.encode(value))
    assert back == value
    assert _types(back) == _types(value)


def _types(value: Any) -> Any:
    if isinstance(value, list):
        return ["list", [_types(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", {k: _types(v) for k, v in value.items()}]
    return type(value).__name__


class Tagged(str):
    pass


@pytest.mark.parametrize(("value", "words"), [
    ((1, 2), "value has type tuple: it would come back as a list"),
    ({"a": [1, {2, 3}]}, "value['a'][1] has type set"),
    (frozenset(), "JSON has no sets"),
    (float("nan"), "value is nan, which JSON cannot hold"),
    ([math.inf], "value[0] is inf"),
    ({1: "x"}, "has the key 1 (int)"),
    ({"k": b"x"}, "value['k'] has type bytes"),
    (Color.RED, "a subclass of int would come back as a plain int"),
    (Tagged("x"), "a subclass of str"),
    (OrderedDict(a=1), "a subclass of dict"),
    (object(), "value has type object: use dict, list"),
])
def test_json_refuses_what_it_would_change_naming_where(value: Any, words: str) -> None:
    with pytest.raises(JsonRefused) as caught:
        JsonCodec().encode(value)
    assert words in str(caught.value)


def test_json_refuses_a_reference_cycle() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(JsonRefused, match=r"value\[0\] contains itself"):
        JsonCodec().encode(loop)


def test_a_json_store_fails_the_step_naming_the_key(make_store: MakeStore) -> None:
    store = make_store(codec=JsonCodec())
    store.create_run("r", workflow="wf", inputs={"n": 1})
    with pytest.raises(SerializationError) as caught:
        store.record("split", "finished", values={"left": [1], "right": (2,)})
    assert (caught.value.step, caught.value.key, caught.value.codec) == (
        "split", "right", "json")
    assert isinstance(caught.value.__cause__, JsonRefused)
    assert "with the json codec: JsonRefused: value has type tuple" in str(caught.value)
    store.commit("r", [store.record("ok", "finished", values={"ok": {"a": [1.5]}})])
    assert store.values(store.steps("r")[0]) == {"ok": {"a": [1.5]}}


def test_a_json_store_file_is_readable_text(tmp_path: Any) -> None:
    import sqlite3

    path = tmp_path / "runs.sqlite"
    with SqliteStore(path, codec=JsonCodec()) as store:
        store.create_run("r", workflow="wf", inputs={"n": 1})
        store.commit("r", [store.record("a", "finished", values={"a": {"x": "é"}})])
    db = sqlite3.connect(path)
    assert db.execute("SELECT data FROM steps").fetchone()[0] == '{"x":"é"}'.encode()
    assert db.execute("SELECT inputs FROM runs").fetchone()[0] == b'{"n":1}'
    db.close()


def test_a_run_is_read_with_the_codec_that_wrote_it(tmp_path: Any) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path, codec=JsonCodec()) as store:
        store.create_run("r", workflow="wf", inputs={"n": 1})
        store.commit("r", [store.record("a", "finished", values={"a": 1})])
        store.release("r")
    with SqliteStore(path) as other:
        assert other.run("r").codec == "json"
        calls: list[Callable[[], object]] = [
            lambda: other.inputs("r"), lambda: other.values(other.steps("r")[0])]
        for call in calls:
            with pytest.raises(ResumeError) as caught:
                call()
            assert caught.value.reason == "codec"
            assert "stored with the 'json' codec" in str(caught.value)
