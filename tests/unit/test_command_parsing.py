"""/skill text as Slack clients really send it."""

from __future__ import annotations

import pytest

from bot.commands import parse
from bot.domain.commands import Command
from bot.domain.errors import NotFound, Refused

ONE = ["trivia"]
TWO = ["trivia", "quiz"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hotfix trivia 9 -- crash on launch", Command("hotfix", "trivia", "9", "crash on launch")),
        ("HOTFIX   Trivia v9 — crash", Command("hotfix", "trivia", "9", "crash")),
        ("hotfix trivia – crash", Command("hotfix", "trivia", None, "crash")),
        ("hotfix -- “it's broken”", Command("hotfix", "trivia", None, "it's broken")),
        ("rollback 7 -- ‘slow’", Command("rollback", "trivia", "7", "slow")),
        (
            "certify -- new model — with dashes",
            Command("certify", "trivia", None, "new model — with dashes"),
        ),
        ("status", Command("status", "trivia", None, "")),
        ("", Command("help", None, None, "")),
        ("  help  ", Command("help", None, None, "")),
        ("cancel trivia -- model rejected", Command("cancel", "trivia", None, "model rejected")),
        ("doctor\u00a0trivia", Command("doctor", "trivia", None, "")),
        ("hotfix trivia-- not a separator", None),
    ],
)
def test_tolerant_parsing(text, expected):
    if expected is None:
        with pytest.raises(NotFound):
            parse(text, ONE)
        return
    assert parse(text, ONE) == expected


def test_skill_is_required_when_several_are_configured():
    assert parse("status quiz", TWO).skill == "quiz"
    with pytest.raises(NotFound, match="Which skill") as err:
        parse("status", TWO)
    assert "/skill status [SKILL]" in err.value.hint


def test_unknown_subcommand_lists_the_valid_ones():
    with pytest.raises(NotFound, match="`deploy` is not a /skill command") as err:
        parse("deploy trivia", ONE)
    assert "hotfix" in err.value.hint and "doctor" in err.value.hint


@pytest.mark.parametrize(
    ("prog", "explains"), [("/skill", "/skill help"), ("skillbot", "skillbot --help")]
)
def test_unknown_subcommand_points_at_a_help_that_exists(prog, explains):
    with pytest.raises(NotFound) as err:
        parse("deploy trivia", ONE, prog=prog)
    assert f"`{explains}` explains each" in err.value.hint, err.value.hint
    assert "skillbot help" not in err.value.hint


def test_unknown_skill_lists_the_known_ones():
    with pytest.raises(NotFound, match="no skill called `trvia`") as err:
        parse("hotfix trvia", TWO)
    assert "quiz, trivia" in err.value.hint


def test_latest_is_never_a_target():
    with pytest.raises(Refused, match=r"never point at \$LATEST"):
        parse("hotfix trivia $LATEST", ONE)


@pytest.mark.parametrize("text", ["status trivia 7", "hotfix 7 8", "history -- why"])
def test_extra_words_are_refused_with_usage(text):
    with pytest.raises(Refused) as err:
        parse(text, ONE)
    assert "`/skill" in err.value.hint


@pytest.mark.parametrize("since", ["0s", "15d", "soon", "-1h"])
def test_a_report_over_no_time_or_past_cloudwatchs_minutes_is_refused(since):
    with pytest.raises(Refused, match="is not a time to report on"):
        parse(f"report trivia --since {since}", ["trivia"])
    assert parse("report trivia --since 3d", ["trivia"]).option("since") == 3 * 86400
