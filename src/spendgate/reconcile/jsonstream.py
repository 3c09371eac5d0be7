"""Streaming reader for paged provider exports: yields one time bucket at a time.

Accepts what teams save from the usage APIs: one page object (`{"data": [...], "has_more"}`),
a JSON array of pages, or pages one per line (JSON Lines) or simply concatenated. Memory is
bounded by the largest single bucket, not by the file. Numbers are exact (Decimal, never float).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from typing import IO, Any, NamedTuple

import orjson

from spendgate.reconcile._parse import InexactNumber
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.rows import ProviderRow
from spendgate.reconcile.source import InputFile

_WS = re.compile(r"[ \t\r\n]*")
_CHUNK = 1 << 20
# A decode error this close to the end of the buffer may only mean the value is cut by the
# chunk boundary: read more and retry. Further from the end it is a real syntax error.
_SLACK = 1 << 16


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


class Bucket(NamedTuple):
    page: int
    number: int
    line: int
    value: Any
    # Re-reads this bucket with exact Decimals; set when `value` came from the fast parser.
    reread: Callable[[], Any] | None = None

    def exact(self) -> Any:
        return self.value if self.reread is None else self.reread()


class _Reader:
    def __init__(self, stream: IO[bytes], name: str, progress: Callable[[int], None] | None,
                 head: bytes = b"") -> None:
        self._stream = stream
        self._name = name
        self._progress = progress
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constants)
        try:
            self.buf = self._utf8.decode(head)
        except UnicodeDecodeError as exc:
            raise ReconcileInputError(name, "line 1", "is not UTF-8") from exc
        self.pos = 0
        self.eof = False
        self._line = 1  # line number of buf[0]

    def line(self, pos: int | None = None) -> int:
        return self._line + self.buf.count("\n", 0, self.pos if pos is None else pos)

    def fill(self, at_least: int = _CHUNK) -> bool:
        if self.eof:
            return False
        raw = self._stream.read(max(at_least, _CHUNK))
        if self._progress is not None and raw:
            self._progress(len(raw))
        try:
            text = self._utf8.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise ReconcileInputError(self._name, f"line {self.line()}", "is not UTF-8") from exc
        if self.pos:
            self._line += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += text
        if not raw:
            self.eof = True
        return True

    def peek(self) -> str | None:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return None

    def expect(self, chars: str, what: str) -> str:
        ch = self.peek()
        if ch is None:
            raise self.error("the file ends early (truncated JSON?)")
        if ch not in chars:
            raise self.error(f"expected {what}, found {ch!r}")
        self.pos += 1
        return ch

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                obj, end = self._decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                near_end = len(self.buf) - exc.pos < _SLACK or "Unterminated" in exc.msg
                if not self.eof and near_end:
                    self.fill(len(self.buf))  # grow geometrically: no quadratic re-reads
                    continue
                if self.eof and (exc.pos >= len(self.buf.rstrip()) or "Unterminated" in exc.msg):
                    raise self.error(f"the file ends inside a value (truncated JSON?): {exc.msg}",
                                     exc.pos) from exc
                raise self.error(f"invalid JSON: {exc.msg}", exc.pos) from exc
            except ValueError as exc:  # NaN / Infinity
                raise self.error(f"invalid JSON: {exc}") from exc
            if end == len(self.buf) and not self.eof and not isinstance(obj, dict | list | str):
                self.fill()  # a bare number may continue in the next chunk
                continue
            self.pos = end
            return obj

    def error(self, message: str, pos: int | None = None) -> ReconcileInputError:
        return ReconcileInputError(self._name, f"line {self.line(pos)}", message)


def iter_buckets(
    stream: IO[bytes], name: str, progress: Callable[[int], None] | None = None
) -> Iterator[Bucket]:
    """Every time bucket of every page, in file order, with its page number and line.

    JSON Lines of pages (the usual way to save a paginated pull) take a fast path: each line is
    parsed by orjson; a bucket whose numbers need exactness is re-read via `Bucket.exact()`.
    Anything else goes through the incremental parser.
    """
    first = stream.readline()
    if progress is not None and first:
        progress(len(first))
    try:
        page = orjson.loads(first) if first.strip().startswith(b"{") else None
    except orjson.JSONDecodeError:
        page = None
    if isinstance(page, dict):
        pages = _json_lines(stream, name, progress, first, page)
    else:
        pages = _incremental(_Reader(stream, name, progress, first), name)
    del first, page  # the generator owns them now; one page in memory at a time
    yield from pages


def _json_lines(stream: IO[bytes], name: str, progress: Callable[[int], None] | None,
                first: bytes, page: dict[str, Any] | None) -> Iterator[Bucket]:
    number = 1
    line = first
    while page is not None:
        data = page.get("data")
        if not isinstance(data, list):
            raise ReconcileInputError(name, f"line {number}", f"page {number} has no data list")
        for i in range(len(data)):
            yield Bucket(number, i + 1, number, data[i], partial(_reread, line, i + 1))
        # Let this page go before the next is parsed: one page in memory at a time.
        data = page = None
        while True:
            line = stream.readline()
            if not line:
                return
            if progress is not None:
                progress(len(line))
            number += 1
            if line.strip():
                break
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError:
            parsed = _exact_line(line, name, number)
        if not isinstance(parsed, dict):
            raise ReconcileInputError(name, f"line {number}", "expected a page object")
        page = parsed


def _exact_line(line: bytes, name: str, number: int) -> Any:
    try:
        return json.loads(line, parse_float=Decimal, parse_constant=_no_constants)
    except ValueError as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        hint = " (truncated JSON?)" if not line.endswith(b"\n") else ""
        raise ReconcileInputError(
            name, f"line {number}", f"invalid JSON{hint}: {message}"
        ) from exc


def _reread(line: bytes, index: int) -> Any:
    return json.loads(line, parse_float=Decimal)["data"][index - 1]


def _incremental(reader: _Reader, name: str) -> Iterator[Bucket]:
    pages = 0
    while True:
        ch = reader.peek()
        if ch is None:
            break
        if ch == "[":
            reader.pos += 1
            if reader.peek() == "]":
                reader.pos += 1
                continue
            while True:
                pages += 1
                yield from _page(reader, pages)
                if reader.expect(",]", "',' or ']' between pages") == "]":
                    break
        elif ch == "{":
            pages += 1
            yield from _page(reader, pages)
        else:
            raise reader.error(f"expected a page object, found {ch!r}")
    if pages == 0:
        raise ReconcileInputError(name, None, "is empty: expected usage pages")


def _page(reader: _Reader, page: int) -> Iterator[Bucket]:
    reader.expect("{", "a page object")
    seen_data = False
    if reader.peek() == "}":
        reader.pos += 1
        raise reader.error(f"page {page} has no data")
    while True:
        key = reader.value()
        if not isinstance(key, str):
            raise reader.error("expected a key")
        reader.expect(":", "':'")
        if key == "data":
            seen_data = True
            reader.expect("[", "a list of buckets")
            if reader.peek() == "]":
                reader.pos += 1
            else:
                index = 0
                while True:
                    index += 1
                    line = reader.line()
                    yield Bucket(page, index, line, reader.value())
                    if reader.expect(",]", "',' or ']' between buckets") == "]":
                        break
        else:
            reader.value()  # object, has_more, next_page: not needed to compare
        if reader.expect(",}", "',' or '}'") == "}":
            break
    if not seen_data:
        raise reader.error(f"page {page} has no data list")


__all__ = ["Bucket", "iter_buckets"]


def read_bucket_rows(
    file: InputFile, parse: Callable[[Any, str, str], list[ProviderRow]],
    progress: Callable[[int], None] | None = None,
) -> Iterator[ProviderRow]:
    """Every row of every bucket of an export, one bucket in memory at a time.

    `parse(bucket, file name, where)` reads one bucket; it is retried on the exact (Decimal)
    form of the bucket when the fast form held a number it cannot represent exactly.
    """
    name = file.name
    with file.open() as stream:
        for bucket in iter_buckets(stream, name, progress):
            where = f"line {bucket.line}, page {bucket.page}, bucket {bucket.number}"
            try:
                rows = parse(bucket.value, name, where)
            except InexactNumber:
                rows = parse(bucket.exact(), name, where)
            del bucket  # one bucket in memory at a time
            yield from rows
            del rows
