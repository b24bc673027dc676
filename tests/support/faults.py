"""Fault injection into a boto3 Lambda client, at one API call, through botocore events.

``before`` faults never reach AWS (throttling, 5xx, conflict, a timeout while sending);
``lost`` faults reach AWS and lose the answer (the change happened, the bot saw a timeout)::

    with inject(client, "UpdateAlias", "throttle"):
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

FAULTS = {
    "throttle": (429, "TooManyRequestsException", "Rate exceeded"),
    "5xx": (500, "ServiceException", "An internal error occurred"),
    "conflict": (409, "ResourceConflictException", "An update is in progress for resource"),
}
KINDS = (*FAULTS, "timeout", "lost")


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


@contextmanager
def inject(client: Any, operation: str, kind: str, times: int = 1) -> Iterator[list[int]]:
    """Make the next ``times`` calls of ``operation`` fail with ``kind``; yields a hit counter."""
    hits = [0]

    def before(**_: Any) -> Any:
        if hits[0] >= times:
            return None
        hits[0] += 1
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=f"https://lambda/{operation}")
        status, code, message = FAULTS[kind]
        response = AWSResponse("https://lambda", status, {}, _Raw())
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return response, parsed

    def after(**_: Any) -> None:
        if hits[0] >= times:
            return
        hits[0] += 1
        raise ReadTimeoutError(endpoint_url=f"https://lambda/{operation}")

    event = f"{'after' if kind == 'lost' else 'before'}-call.lambda.{operation}"
    handler = after if kind == "lost" else before
    client.meta.events.register(event, handler, unique_id=f"fault-{operation}")
    try:
        yield hits
    finally:
        client.meta.events.unregister(event, unique_id=f"fault-{operation}")


def refuse_revision(stub: Any, **expected: Any) -> None:
    """Queue AWS's answer to an ``UpdateAlias`` whose ``RevisionId`` is no longer the
    alias's (412 PreconditionFailedException, which moto never gives), for a call made
    with exactly ``expected``."""
    stub.add_client_error(
        "update_alias",
        service_error_code="PreconditionFailedException",
        service_message="The Revision Id provided does not match the latest Revision Id.",
        http_status_code=412,
        expected_params=expected,
    )
