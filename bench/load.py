"""Bursts of concurrent, signed slash commands, timed from connect to the full response.

It runs as its own process (``python -m bench.load`` reading a JSON plan on stdin and
writing one JSON result per request on stdout), single-threaded on asyncio, so nothing
else in the benchmark process (the delaying proxy, the fake Slack) competes with it for
the GIL while it takes timestamps::

    {"secret": "…", "gap": 1.0, "timeout": 30,
     "bursts": [{"label": "bot", "url": "http://127.0.0.1:3000/slack/events",
                 "commands": [{"kind": "status", "text": "status trivia",
                               "response_url": "http://127.0.0.1:4000/response/1"}]}]}

Each burst opens one connection per command at the same moment (as Slack does), waits
for every response, then pauses ``gap`` seconds before the next burst.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from bot.devkit.slack_requests import sign, slash_command_body


def _request(url: str, body: str, secret: str) -> bytes:
    parts = urlsplit(url)
    headers = sign(body, secret)
    data = body.encode()
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(data)}",
        "Connection: close",
        "User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def _send(host: str, port: int, raw: bytes, timeout: float) -> tuple[int, float, str]:
    """(status, seconds, error): status 0 when no HTTP answer came."""
    started = time.perf_counter()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(raw)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        length = 0
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            await asyncio.wait_for(reader.readexactly(length), timeout)
        took = time.perf_counter() - started
        return int(status_line.split()[1]), took, ""
    except (TimeoutError, OSError, IndexError, ValueError, asyncio.IncompleteReadError) as err:
        return 0, time.perf_counter() - started, f"{type(err).__name__}: {err}"
    finally:
        if writer is not None:
            writer.close()


async def _burst(burst: dict[str, Any], secret: str, timeout: float) -> list[dict[str, Any]]:
    parts = urlsplit(burst["url"])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raws = [
        _request(
            burst["url"],
            slash_command_body(
                c["text"], user_id=c.get("user", "U0ALICE"), response_url=c["response_url"]
            ),
            secret,
        )
        for c in burst["commands"]
    ]
    results = await asyncio.gather(*(_send(host, port, raw, timeout) for raw in raws))
    return [
        {"label": burst["label"], "kind": c["kind"], "status": s, "seconds": t, "error": e}
        for c, (s, t, e) in zip(burst["commands"], results, strict=True)
    ]


async def run_plan(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, burst in enumerate(plan["bursts"]):
        if n:
            await asyncio.sleep(plan.get("gap", 1.0))
        for result in await _burst(burst, plan["secret"], plan.get("timeout", 30.0)):
            out.append({"burst": n, **result})
    return out


def main() -> None:
    plan = json.load(sys.stdin)
    for result in asyncio.run(run_plan(plan)):
        print(json.dumps(result))


if __name__ == "__main__":
    main()
