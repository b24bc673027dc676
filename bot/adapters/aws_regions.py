"""One boto3 client per AWS region, built once: a function's calls go to its ARN's region.

A skill served from several regions names its regional functions by ARN; Lambda and
CloudWatch must be asked in the function's own region::

    regional = ClientsByRegion(lambda region: boto3.client("lambda", region_name=region))
    function_client(default, "arn:aws:lambda:eu-west-1:…:function:trivia", regional)  # eu-west-1's
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bot.domain.regions import aws_region_of


class ClientsByRegion:
    """Clients of other regions, made by ``make(region)`` at first use and kept."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        self._make = make
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._make(region)
            return self._clients[region]


def function_client(default: Any, function: str | None, regional: ClientsByRegion | None) -> Any:
    """The client for ``function``: the default one unless its ARN names another region."""
    region = aws_region_of(function) if function else None
    default_region = getattr(getattr(default, "meta", None), "region_name", None)
    if region is None or region == default_region or regional is None:
        return default
    return regional.get(region)
