"""Requests straight into a WSGI app (``bot.http.wsgi_app``), as waitress would pass them::

status, headers, body = call(application, "POST", "/slack/events", raw, sign(text, SECRET))
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any


class CountingInput(io.BytesIO):
    """``wsgi.input`` that remembers how many bytes the app read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def environ_for(
    method: str,
    path: str,
    body: bytes | CountingInput,
    headers: Mapping[str, str] | None = None,
    content_length: int | None = None,
) -> dict[str, Any]:
    stream = body if isinstance(body, CountingInput) else CountingInput(body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": str(
            content_length if content_length is not None else len(stream.getbuffer())
        ),
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ


def call(
    application: Callable[..., Iterable[bytes]],
    method: str,
    path: str,
    body: bytes | CountingInput = b"",
    headers: Mapping[str, str] | None = None,
    *,
    content_length: int | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Status code, headers (lower-cased names) and body of one request."""
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        started["status"] = int(status.split()[0])
        started["headers"] = {k.lower(): v for k, v in response_headers}

    chunks = application(environ_for(method, path, body, headers, content_length), start_response)
    payload = b"".join(chunks)
    return started["status"], started["headers"], payload
