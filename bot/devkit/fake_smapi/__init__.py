"""A local fake of SMAPI and the Login with Amazon token endpoint (see :mod:`.server`)."""

from bot.devkit.fake_smapi.server import FakeSmapi
from bot.devkit.fake_smapi.state import (
    PUBLICATION_METHODS,
    TOKEN_PATH,
    WITHDRAW_REASONS,
    FakeCertification,
    FakeSkill,
    RecordedRequest,
)

__all__ = [
    "PUBLICATION_METHODS",
    "TOKEN_PATH",
    "WITHDRAW_REASONS",
    "FakeCertification",
    "FakeSkill",
    "FakeSmapi",
    "RecordedRequest",
]
