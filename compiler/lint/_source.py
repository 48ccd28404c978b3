"""Reading a module's source safely: bytes, encoding, size, and the parse itself.

Nothing a file holds makes spectra-lint hang, run out of memory or crash: a FIFO or a
device named ``*.py`` is not opened for reading, a file larger than
:data:`MAX_FILE_BYTES` is not read past that size, and every failure becomes an SPX901
finding saying what went wrong and how to fix it.
"""

from __future__ import annotations

import ast
import codecs
import io
import os
import stat
import tokenize

import attrs

from compiler import Diagnostic, SourceLocation

#: The largest file read, in bytes: a module over it is SPX901 rather than read until
#: memory runs out (a ``*.py`` symlink to ``/dev/zero``, a generated dump).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: The name a module must contain to be worth parsing: one that never mentions the DSL
#: builds no workflow (the modules it imports from are read when a workflow needs them).
DSL_PACKAGE = "spectra_dsl"


@attrs.frozen
class Source:
    """A file's text and syntax tree, or the SPX901 finding saying why there is none.

    ``text`` is None when the file could not be read or decoded; ``tree`` is None also
    when it was not parsed (a syntax error, or not worth parsing).
    """

    text: str | None
    tree: ast.Module | None
    problem: Diagnostic | None = None


def unreadable(path: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    """An SPX901 finding for ``path``."""
    return Diagnostic("SPX901", message, location=SourceLocation(path, line, column))


def shown(path: str) -> str:
    """``path`` as a message can show it: bytes that are no valid UTF-8 in a file name
    become ``\\xNN`` escapes, so every output format can write it."""
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name decodes to
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def read_bytes(path: str) -> bytes | Diagnostic:
    """The bytes of the regular file at ``path``, or an SPX901 saying why not."""
    name = shown(path)
    try:
        info = os.stat(path)
    except OSError as error:
        return unreadable(path, f"cannot read {name}: {error.strerror or error}; check "
                          "that it exists and that you may read it")
    if stat.S_ISDIR(info.st_mode):
        return unreadable(path, f"{name} is a directory, not a Python file; pass the "
                          "directory itself to lint the files in it")
    if not stat.S_ISREG(info.st_mode):
        return unreadable(path, f"{name} is not a regular file (a pipe, socket or device), "
                          "so it was not read; lint the file it stands for instead")
    if info.st_size > MAX_FILE_BYTES:
        return _too_large(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return unreadable(path, f"cannot read {name}: {error.strerror or error}; check "
                          "that it exists and that you may read it")
    if len(data) > MAX_FILE_BYTES:
        return _too_large(path)
    return data


def _too_large(path: str) -> Diagnostic:
    return unreadable(path, f"{shown(path)} is larger than {MAX_FILE_BYTES // 2 ** 20} MB, "
                      "so it was not read; exclude it (--extend-exclude) if it is generated")


def decode(path: str, data: bytes) -> str | Diagnostic:
    """``data`` as text (UTF-8, or the encoding its coding line declares)."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[3:].decode("utf-8")
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (UnicodeDecodeError, SyntaxError, LookupError) as error:
        return unreadable(path, f"cannot decode {shown(path)}: {error}; save it as UTF-8 "
                          "(or declare its encoding in a '# -*- coding: ... -*-' line)")


def mentions_dsl(data: bytes | str) -> bool:
    """True when the source names ``spectra_dsl`` at all (a cheap test before parsing)."""
    if isinstance(data, str):
        return DSL_PACKAGE in data
    return DSL_PACKAGE.encode() in data


def parse(path: str, text: str) -> Source:
    """Parse ``text``; a syntax error becomes SPX901 with the parser's line and message."""
    try:
        tree = ast.parse(text, filename=path, type_comments=False)
    except SyntaxError as error:
        line = error.lineno or 1
        column = max(error.offset or 1, 1)
        return Source(text, None, unreadable(
            path, f"syntax error: {error.msg}; fix it so the file can be checked",
            line, column))
    except (RecursionError, MemoryError):
        return Source(text, None, unreadable(
            path, "the parser gave up: an expression is nested too deeply; split it up"))
    except ValueError as error:  # source containing null bytes
        return Source(text, None, unreadable(path, f"cannot parse {shown(path)}: {error}"))
    return Source(text, tree)


def load_source(path: str, data: bytes | str | None = None, *,
                only_dsl: bool = False) -> Source:
    """Read (unless ``data`` is given), decode and parse ``path``; with ``only_dsl``, a
    module that never names ``spectra_dsl`` is not decoded nor parsed (no tree)."""
    if data is None:
        read = read_bytes(path)
        if isinstance(read, Diagnostic):
            return Source(None, None, read)
        data = read
    if only_dsl and not mentions_dsl(data):
        return Source(None, None)
    text = decode(path, data) if isinstance(data, bytes) else data
    if isinstance(text, Diagnostic):
        return Source(None, None, text)
    return parse(path, text)
