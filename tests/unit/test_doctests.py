"""The examples in the docstrings of the pure modules are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "bot.domain.model",
    "bot.domain.rotation",
    "bot.domain.commands",
    "bot.commands",
    "bot.domain.alexa",
    "bot.domain.locations",
    "bot.schedules",
    "bot.service.access",
    "bot.adapters.lambda_aws",
    "bot.adapters.startup_checks",
    "bot.cli",
    "bot.cli.exit_codes",
    "bot.cli.render",
    "bot.config.settings",
    "bot.domain.actors",
    "bot.domain.text",
    "bot.domain.words",
    "bot.config.start",
    "bot.adapters.slack.kit",
    "bot.adapters.aws_errors",
    "bot.domain.health",
    "bot.service.health",
    "bot.service.outbox",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no examples"
