"""moto does not find a function named by its ARN in ListAliases ("Function not found")
nor in ListVersionsByFunction (no versions): it looks the ARN up still URL-encoded
(``arn%3Aaws%3Alambda…``), and the versions by the bare name only, where AWS accepts
either. Both are decoded here, for the in-process mock and for moto_server (which runs in
this process)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import LambdaBackend

_list_aliases = LambdaBackend.list_aliases
_list_versions = LambdaBackend.list_versions_by_function


def _name(function: str) -> str:
    """``arn:aws:lambda:eu-west-1:1:function:trivia`` (encoded or not) → ``trivia``."""
    decoded = unquote(function)
    parts = decoded.split(":")
    return parts[6] if decoded.startswith("arn:") and len(parts) >= 7 else decoded


def _aliases(self: LambdaBackend, function_name: str) -> Any:
    return _list_aliases(self, unquote(function_name))


def _versions(self: LambdaBackend, function_name: str) -> Any:
    return _list_versions(self, _name(function_name))


def install() -> None:
    LambdaBackend.list_aliases = _aliases  # type: ignore[method-assign]
    LambdaBackend.list_versions_by_function = _versions  # type: ignore[method-assign]
