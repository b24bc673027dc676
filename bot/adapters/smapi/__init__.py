"""The Alexa Skill Management API (SMAPI): :mod:`.client` (the calls skillbot makes) over
:mod:`.transport` (HTTP and Login with Amazon tokens)."""

from bot.adapters.smapi.client import SmapiClient
from bot.adapters.smapi.transport import SmapiCredentials

__all__ = ["SmapiClient", "SmapiCredentials"]
