"""Request bodies: content types, gzip, and the size limit after decompression.

`read_body` returns a whole body (single events and batches); `BodyLines`
yields an NDJSON body line by line as it arrives, reading the next chunk only
when asked, so a consumer that stops asking stops the reading (and TCP pushes
back on the client). gzip is decompressed incrementally with a bound on the
output, so a small compressed body cannot expand past the limit in memory.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive

from streamlake.http.problems import Problem

JSON = "application/json"
NDJSON = "application/x-ndjson"
ACCEPTED = (JSON, NDJSON)
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return content_type.partition(";")[0].strip().lower()


def check_media_type(content_type: str) -> str:
    kind = media_type(content_type)
    if kind not in ACCEPTED:
        raise Problem(
            415,
            "unsupported-media-type",
            f"Content-Type {content_type or '(none)'!r} is not accepted; send "
            f"{JSON} (one event or an array) or {NDJSON} (a stream, one event per line)",
            headers={"Accept-Post": ", ".join(ACCEPTED)},
        )
    return kind


def decoder(content_encoding: str) -> zlib._Decompress | None:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding == "gzip":
        return zlib.decompressobj(_GZIP_WBITS)
    raise Problem(
        415,
        "unsupported-media-type",
        f"Content-Encoding {content_encoding!r} is not supported; send gzip or no encoding",
        headers={"Accept-Encoding": "gzip"},
    )


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "too-large",
        f"the body is larger than {limit} bytes (after decompression); split it into "
        "several requests or send an NDJSON stream",
        limit_bytes=limit,
    )


def _inflate(unzip: zlib._Decompress, chunk: bytes, room: int) -> bytes:
    """Decompress `chunk`, at most `room` + 1 bytes (one more tells the limit
    was passed); raises 400 on a corrupt stream."""
    try:
        return unzip.decompress(unzip.unconsumed_tail + chunk, room + 1)
    except zlib.error as exc:
        raise Problem(
            400, "bad-request", f"the gzip body is corrupt ({exc}); send valid gzip data"
        ) from exc


async def read_body(receive: Receive, content_encoding: str, limit: int) -> bytes:
    """The whole (decompressed) body; 413 beyond `limit` bytes."""
    unzip = decoder(content_encoding)
    parts: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        if unzip is not None:
            chunk = _inflate(unzip, chunk, limit - size)
            while unzip.unconsumed_tail and size + len(chunk) <= limit:
                chunk += _inflate(unzip, b"", limit - size - len(chunk))
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    if unzip is not None and not unzip.eof:
        raise Problem(400, "bad-request", "the gzip body ends early; send the complete data")
    return b"".join(parts)


class StreamEnded(Exception):
    """The stream was stopped before its end; `reason` says why, for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BodyLines:
    """The lines of an NDJSON body, as they arrive, without their newlines.

    Blank lines are skipped and counted in `blank`; `number` is the line
    number of the last line yielded (1-based). The iteration ends with
    `StreamEnded` on an idle timeout, the maximum duration, a line longer than
    `max_line_bytes`, or `stop()` (the server draining).
    """

    def __init__(
        self,
        receive: Receive,
        content_encoding: str,
        *,
        max_line_bytes: int,
        idle_timeout_s: float,
        max_duration_s: float,
    ) -> None:
        self._receive = receive
        self._unzip = decoder(content_encoding)
        self._max_line = max_line_bytes
        self._idle = idle_timeout_s
        self._deadline = time.monotonic() + max_duration_s
        self._max_duration = max_duration_s
        self._stopping: str | None = None
        self.number = 0
        self.blank = 0
        self.disconnected = False

    def stop(self, reason: str) -> None:
        self._stopping = reason

    async def _chunks(self) -> AsyncIterator[bytes]:
        more = True
        while more:
            if self._stopping:
                raise StreamEnded(self._stopping)
            if time.monotonic() > self._deadline:
                raise StreamEnded(
                    f"the stream reached the maximum duration of {self._max_duration:g} s"
                )
            try:
                async with asyncio.timeout(self._idle):
                    message: Message = await self._receive()
            except TimeoutError:
                raise StreamEnded(f"nothing arrived for {self._idle:g} s") from None
            if message["type"] == "http.disconnect":
                self.disconnected = True
                raise StreamEnded("the client disconnected")
            more = message.get("more_body", False)
            chunk = message.get("body", b"")
            if self._unzip is None:
                yield chunk
                continue
            try:
                yield self._unzip.decompress(chunk)
                while self._unzip.unconsumed_tail:
                    yield self._unzip.decompress(self._unzip.unconsumed_tail)
            except zlib.error as exc:
                raise StreamEnded(f"the gzip stream is corrupt ({exc})") from exc
        if self._unzip is not None and not self._unzip.eof:
            raise StreamEnded("the gzip stream ends early")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        rest = b""
        async for chunk in self._chunks():
            if b"\n" not in chunk:
                rest += chunk
                self._check_length(rest)
                continue
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                self.number += 1
                if not line.strip():
                    self.blank += 1
                    continue
                self._check_length(line)
                yield line
            self._check_length(rest)
        if rest.strip():
            self.number += 1
            yield rest

    def _check_length(self, line: bytes) -> None:
        if len(line) > self._max_line:
            raise StreamEnded(
                f"line {self.number + 1} is longer than {self._max_line} bytes; "
                "split the event or raise limits.max_body_bytes"
            )
