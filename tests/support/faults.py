"""Fault injection into a boto3 client (Lambda's unless told), at one API call, through
botocore events; a boto3 session passes them on to the clients made from it afterwards.

``before`` faults never reach AWS (throttling, 5xx, conflict, refused credentials, a
timeout while sending); ``lost`` faults reach AWS and lose the answer (the change
happened, the bot saw a timeout)::

    with inject(client, "UpdateAlias", "throttle"):
        ...
    with inject(session, "GetCallerIdentity", "5xx", times=2, service="sts"):
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
#: an answer, not a fault: credentials AWS does not accept
REFUSED = (403, "InvalidClientTokenId", "The security token included in the request is invalid.")


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


@contextmanager
def inject(
    client: Any, operation: str, kind: str, times: int = 1, *, service: str = "lambda"
) -> Iterator[list[int]]:
    """Make the next ``times`` calls of ``operation`` fail with ``kind``; yields a hit counter.
    ``client`` may be a boto3 session: its clients made from now on fail so."""
    hits = [0]
    url = f"https://{service}"
    events = client.events if hasattr(client, "events") else client.meta.events

    def before(**_: Any) -> Any:
        if hits[0] >= times:
            return None
        hits[0] += 1
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=f"{url}/{operation}")
        status, code, message = REFUSED if kind == "refused" else FAULTS[kind]
        response = AWSResponse(url, status, {}, _Raw())
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return response, parsed

    def after(**_: Any) -> None:
        if hits[0] >= times:
            return
        hits[0] += 1
        raise ReadTimeoutError(endpoint_url=f"{url}/{operation}")

    event = f"{'after' if kind == 'lost' else 'before'}-call.{service}.{operation}"
    handler = after if kind == "lost" else before
    events.register(event, handler, unique_id=f"fault-{operation}")
    try:
        yield hits
    finally:
        events.unregister(event, unique_id=f"fault-{operation}")


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
