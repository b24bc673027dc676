"""The Alexa Skill Management API (SMAPI): :mod:`.client` (the calls skillbot makes) over
:mod:`.transport` (HTTP and Login with Amazon tokens)."""

from bot.adapters.smapi.client import SmapiClient, smapi_client_from_env
from bot.adapters.smapi.transport import (
    DEFAULT_LWA_TOKEN_URL,
    DEFAULT_SMAPI_URL,
    SmapiCredentials,
)
from bot.domain.alexa import (
    CERTIFICATION_STATUSES,
    WITHDRAW_REASONS,
    CertificationReview,
    PublicationStatus,
    SkillEndpoints,
)

__all__ = [
    "CERTIFICATION_STATUSES",
    "DEFAULT_LWA_TOKEN_URL",
    "DEFAULT_SMAPI_URL",
    "WITHDRAW_REASONS",
    "CertificationReview",
    "PublicationStatus",
    "SkillEndpoints",
    "SmapiClient",
    "SmapiCredentials",
    "smapi_client_from_env",
]
