"""A fake of Slack's Socket Mode endpoint: a WebSocket server that sends envelopes to the
app and records the acknowledgements it answers with::

    with FakeSocketMode() as socket:
        fake_slack.socket_mode_url = socket.url   # apps.connections.open hands it out
        socket.wait_connected()
        ack = socket.request("slash_commands", {...command fields...})
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._connection: ServerConnection | None = None
        self._acks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0APP"},
                    "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                }
            )
        )
        with self._cond:
            self._connection = connection
            self._cond.notify_all()
        for raw in connection:
            message = json.loads(raw)
            with self._cond:
                if "envelope_id" in message:
                    self._acks[message["envelope_id"]] = message
                    self._cond.notify_all()

    def wait_connected(self, timeout: float = 20.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connection is not None, timeout):
                raise AssertionError("the app never opened its Socket Mode connection")

    def request(self, kind: str, payload: dict[str, Any], timeout: float = 3.0) -> dict[str, Any]:
        """Send one envelope; return the app's acknowledgement (within Slack's 3 seconds)."""
        envelope_id = f"env-{next(self._ids)}"
        assert self._connection is not None
        self._connection.send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                }
            )
        )
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"no acknowledgement of {kind} within {timeout}s")
            return self._acks[envelope_id]

    def close(self) -> None:
        self._server.shutdown()

    def __enter__(self) -> FakeSocketMode:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
