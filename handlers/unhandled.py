"""What no listener handles: acknowledged (Slack retries anything but a 2xx, and shows
"dispatch_failed" for an unanswered command), and logged once per kind."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt import Ack

from bot.domain.commands import shown

log = logging.getLogger(__name__)

#: kinds remembered as already logged; beyond, nothing more is logged
REMEMBERED = 1000


class Unhandled:
    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def _first(self, kind: str) -> bool:
        with self._lock:
            if kind in self._seen or len(self._seen) >= REMEMBERED:
                return False
            self._seen.add(kind)
            return True

    def _note(self, kind: str) -> None:
        if self._first(kind):
            log.info("%s: no listener handles it; acknowledged and ignored (logged once)", kind)

    def event(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self._note(f"event {shown(str((body.get('event') or {}).get('type', '?')), 80)}")

    def command(self, ack: Ack, command: dict[str, Any]) -> None:
        name = shown(str(command.get("command", "?")), 80)
        ack(
            text=f"This app only answers `/skill`, not `{name}`. Try `/skill help`.",
            response_type="ephemeral",
        )
        self._note(f"command {name}")

    def action(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        actions = body.get("actions") or [{}]
        self._note(f"{body.get('type', 'action')} {shown(str(actions[0].get('action_id')), 80)}")

    def other(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self._note(f"{shown(str(body.get('type', '?')), 80)} request")
