"""Reading what the bot posted, to answer it as a person would::

world.click(CONFIRM, button_value(plan, CONFIRM))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def button_value(message: Mapping[str, Any], action_id: str) -> str:
    """The value of the button ``action_id`` in a message's blocks.

    >>> button_value({"blocks": [{"elements": [{"action_id": "go", "value": "p1"}]}]}, "go")
    'p1'
    """
    for block in message.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {message}")
