"""Codecs: how a store turns values into bytes and back.

:class:`PickleCodec` (the default) stores any picklable value exactly.  **Trust**: a
store is a local file with the trust of your own code; unpickling runs code named by
the file, so never open a store that came from somewhere you do not trust.
:class:`JsonCodec` stores only values that JSON holds exactly and refuses the rest.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from ._store_errors import SerializationError
from ._store_records import Blobs

#: The pickle protocol every store writes (pinned: a store written by one Python is
#: read by another; protocol 5 is read by Python 3.8 and later).
PICKLE_PROTOCOL = 5


@runtime_checkable
class Codec(Protocol):
    """Turns one value into bytes and back.  ``name`` is recorded with every run, so
    a run is always read with the codec that wrote it.  ``encode`` raises (anything)
    on a value it cannot hold exactly; the store turns that into
    :class:`SerializationError` naming the step and key."""

    @property
    def name(self) -> str: ...

    def encode(self, value: Any) -> bytes: ...

    def decode(self, data: bytes) -> Any: ...


@attrs.frozen
class PickleCodec:
    """Pickle, protocol :data:`PICKLE_PROTOCOL`: any picklable value, exactly.

    A store of pickles has the trust of your code: never open one from an untrusted
    source (unpickling can run any code)."""

    @property
    def name(self) -> str:
        """``"pickle"``."""
        return "pickle"

    def encode(self, value: Any) -> bytes:
        """``pickle.dumps(value, protocol=PICKLE_PROTOCOL)``."""
        return pickle.dumps(value, protocol=PICKLE_PROTOCOL)

    def decode(self, data: bytes) -> Any:
        """``pickle.loads(data)``."""
        return pickle.loads(data)


class JsonRefused(TypeError):
    """A value JSON cannot hold exactly; the message names where in the value."""


@attrs.frozen
class JsonCodec:
    """Strict JSON (UTF-8): only ``dict`` with ``str`` keys, ``list``, ``str``, ``int``,
    finite ``float``, ``bool`` and ``None`` are stored, and they come back equal and of
    the same types.  Anything JSON would change silently (a tuple becoming a list, a
    set, NaN, an ``int`` key becoming a ``str``, a subclass losing its class) or cannot
    hold is refused with an error naming where in the value it is.  The file is then
    readable by any SQLite tool, and loading it runs no code."""

    @property
    def name(self) -> str:
        """``"json"``."""
        return "json"

    def encode(self, value: Any) -> bytes:
        """The value as compact UTF-8 JSON; :class:`JsonRefused` for anything else."""
        _check_json(value, "value", set())
        return json.dumps(value, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")

    def decode(self, data: bytes) -> Any:
        """``json.loads`` of the stored text."""
        return json.loads(data.decode("utf-8"))


_SCALARS = (str, int, bool, type(None))


def _check_json(value: Any, path: str, active: set[int]) -> None:
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is float:
        if not math.isfinite(value):
            raise JsonRefused(f"{path} is {value!r}, which JSON cannot hold")
        return
    if kind is list or kind is dict:
        if id(value) in active:
            raise JsonRefused(f"{path} contains itself (a reference cycle)")
        active.add(id(value))
        if kind is list:
            for i, item in enumerate(value):
                _check_json(item, f"{path}[{i}]", active)
        else:
            for key, item in value.items():
                if type(key) is not str:
                    raise JsonRefused(
                        f"{path} has the key {key!r} ({type(key).__name__}); JSON keys are "
                        "str only (it would come back as a str)")
                _check_json(item, f"{path}[{key!r}]", active)
        active.discard(id(value))
        return
    hints: dict[type, str] = {
        tuple: "it would come back as a list; use a list",
        set: "JSON has no sets; use a sorted list",
        frozenset: "JSON has no sets; use a sorted list",
        bytes: "JSON has no bytes; encode them (base64) into a str",
    }
    hint = hints.get(kind)
    if hint is None:
        if isinstance(value, (str, int, float, list, dict)):
            hint = (f"a subclass of {_json_base(value)} would come back as a plain "
                    f"{_json_base(value)}")
        else:
            hint = "use dict, list, str, int, float, bool or None, or the pickle codec"
    raise JsonRefused(f"{path} has type {kind.__name__}: {hint}")


def _json_base(value: Any) -> str:
    for base in (bool, int, float, str, list, dict):
        if isinstance(value, base):
            return base.__name__
    return type(value).__name__  # pragma: no cover - callers check first


def _reason(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def encode_value(codec: Codec, value: Any, *, step: str | None, key: str) -> bytes:
    """``codec.encode(value)``, or :class:`SerializationError` (step, key, cause)."""
    try:
        return codec.encode(value)
    except Exception as error:
        raise SerializationError(step, key, _reason(error), codec=codec.name) from error


def encode_values(codec: Codec, values: Mapping[str, Any], *, step: str) -> Blobs:
    """Each key's value encoded on its own, in order; the first key that fails raises
    :class:`SerializationError` naming ``step`` and that key."""
    return tuple((key, encode_value(codec, value, step=step, key=key))
                 for key, value in values.items())


def encode_inputs(codec: Codec, inputs: Mapping[str, Any]) -> bytes:
    """A run's inputs as one encoded mapping (shared references kept).  A failure names
    the first input that cannot be stored on its own."""
    plain = dict(inputs)
    try:
        return codec.encode(plain)
    except Exception as error:
        for key, value in plain.items():
            encode_value(codec, value, step=None, key=key)
        raise SerializationError(None, ", ".join(plain) or "(none)", _reason(error),
                                 codec=codec.name) from error


def decode_value(codec: Codec, data: bytes, *, step: str | None, key: str) -> Any:
    """``codec.decode(data)``, or :class:`SerializationError` with ``decoding=True``."""
    try:
        return codec.decode(data)
    except Exception as error:
        raise SerializationError(step, key, _reason(error), codec=codec.name,
                                 decoding=True) from error
