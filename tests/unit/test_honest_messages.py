"""What people read is what happened: escaped text, the right credit, whole histories,
truthful replies when the database stalls, and the four-eyes rule."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.adapters.slack import plans, reports
from bot.adapters.slack.kit import say
from bot.adapters.store import open_store
from bot.commands import HELP
from bot.domain.errors import (
    AppliedNotRecorded,
    ConfigError,
    NotAuthorized,
    Refused,
    Unavailable,
)
from bot.domain.model import FixKind, Outcome
from bot.domain.words import Code, Link, Typed, words
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import compose_over, make_world

EVIL = "<!channel> <@U0APPROVER> <https://evil.example|click> & more"


@pytest.fixture
def w():
    return make_world()


def test_typed_text_can_neither_ping_nor_mention_nor_link(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason=EVIL)
    plan_text = str(plans.plan_message(plan))
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    history = str(reports.history_blocks("trivia", w.cases.reading.history("trivia")))
    [announcement] = w.notifier.top_level()
    for shown in (
        plan_text,
        change.headline(),
        announcement.text,
        str(announcement.blocks),
        history,
    ):
        assert "<!channel>" not in shown and "<@U0APPROVER>" not in shown
        assert "<https://evil" not in shown
        assert "&lt;!channel&gt;" in shown and "&amp; more" in shown
    assert "<@U0ALICE>" in announcement.text, "the bot's own mentions still work"


def test_a_certification_note_is_escaped_in_its_message(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason=EVIL)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    [message] = w.notifier.top_level()
    assert "<!channel>" not in message.text + str(message.blocks)
    assert "&lt;!channel&gt;" in message.text


def test_an_unknown_word_is_echoed_escaped():
    from bot.commands import parse
    from bot.domain.errors import SkillbotError

    with pytest.raises(SkillbotError) as err:
        parse("<!channel>", ["trivia"])
    shown = say(err.value.told)
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


def test_a_plan_confirmed_by_another_operator_credits_both(w):
    plan = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2", reason="slow")
    change = w.cases.applying.apply(plan.id, actor="U0BOB")
    expected = "trivia: rollback PROD1 v1 → v2 planned by <@U0ALICE>, confirmed by <@U0BOB> — slow"
    assert change.headline() == expected
    assert w.notifier.top_level()[0].text == expected
    applied = next(e for e in w.store.audit("trivia") if e.outcome is Outcome.APPLIED)
    assert applied.actor == "U0BOB"


def test_the_starter_of_a_certification_cannot_promote_it():
    w = make_world()
    services = compose_over(w.lam, w.store, w.clock, approvers=[OPERATOR, APPROVER])
    w.lam.deploy("trivia-skill", "code-3")
    plan = services.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    services.cases.applying.apply(plan.id, actor=OPERATOR)
    with pytest.raises(NotAuthorized, match="someone else must promote") as err:
        services.cases.promotion.promote("trivia", actor=OPERATOR)
    assert "<@U0CAROL>" in say(err.value.todo) and "`four_eyes = false`" in say(err.value.todo)
    assert w.lam.read_live_alias("trivia-skill") is None
    assert services.cases.promotion.promote("trivia", actor=APPROVER).live_alias == "PROD2"


def test_the_approver_who_confirmed_a_certification_cannot_promote_it_alone():
    w = make_world()
    # Bob is an operator and an approver: he confirms Alice's certification
    services = compose_over(w.lam, w.store, w.clock, w.notifier, approvers=["U0BOB", APPROVER])
    w.lam.deploy("trivia-skill", "code-3")
    plan = services.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="quiz")
    change = services.cases.applying.apply(plan.id, actor="U0BOB")
    cert = change.certification
    assert (cert.requested_by, cert.confirmed_by) == (OPERATOR, "U0BOB")
    # the certification message credits both; the database keeps the confirmer
    assert "by <@U0ALICE>, confirmed by <@U0BOB> — quiz" in w.notifier.top_level()[0].text
    assert w.store.get_certification(cert.id).confirmed_by == "U0BOB"
    with pytest.raises(NotAuthorized, match="You confirmed this certification") as err:
        services.cases.promotion.promote("trivia", actor="U0BOB")
    assert "<@U0CAROL>" in say(err.value.todo) and "<@U0BOB>" not in say(err.value.todo)
    assert w.lam.read_live_alias("trivia-skill") is None
    assert services.cases.promotion.promote("trivia", actor=APPROVER).live_alias == "PROD2"


def test_a_certification_confirmed_by_its_starter_has_no_separate_confirmer():
    w = make_world()
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    cert = w.cases.applying.apply(plan.id, actor=OPERATOR).certification
    assert cert.confirmed_by is None
    assert "confirmed by" not in w.notifier.top_level()[0].text


def test_a_one_person_team_can_turn_four_eyes_off():
    w = make_world()
    services = compose_over(w.lam, w.store, w.clock, approvers=[OPERATOR], four_eyes=False)
    w.lam.deploy("trivia-skill", "code-3")
    plan = services.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    services.cases.applying.apply(plan.id, actor=OPERATOR)
    assert services.cases.promotion.promote("trivia", actor=OPERATOR).live_alias == "PROD2"


class StallingStore:
    """The store, except that recording an applied change fails (a locked database)."""

    def __init__(self, store):
        self._store = store
        self.stalled = True

    def add_audit(self, event, *, plan_status=None, owe=()):
        if self.stalled and event.outcome is Outcome.APPLIED:
            raise Unavailable("The database did not answer: database is locked", hint="x")
        return self._store.add_audit(event, plan_status=plan_status, owe=owe)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_a_database_stall_after_the_alias_moved_says_the_change_is_made():
    w = make_world()
    stalling = StallingStore(w.store)
    services = compose_over(w.lam, stalling, w.clock)
    plan = services.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    with pytest.raises(AppliedNotRecorded) as err:
        services.cases.applying.apply(plan.id, actor=OPERATOR)
    text, _ = plans.error_message(err.value, doing="apply the plan")
    assert w.alias("PROD1") == "2"
    assert "The change is made" in text and "Do not confirm again" in text
    assert "Could not" not in text and "retrying is safe" not in text
    # once the database answers, recovery records and announces it
    stalling.stalled = False
    w.clock.advance(minutes=1)
    report = services.runtime.recovery.run()
    assert report.completed == [plan.summary()]
    assert any("rollback PROD1 v1 → v2" in p.text for p in services.runtime.notifier.top_level())


def test_one_long_reason_never_hides_older_history(w):
    for n in range(3):
        plan = w.cases.planning.plan(
            "rollback", "trivia", actor=OPERATOR, version="2", reason=f"old {n}"
        )
        w.cases.applying.dismiss(plan.id, actor=OPERATOR)
    w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2", reason="x" * 3500)
    _, body = reports.history_blocks("trivia", w.cases.reading.history("trivia"))
    texts = [b["text"]["text"] for b in body]
    assert all(len(t) <= 3000 for t in texts)
    shown = "\n".join(texts)
    for n in range(3):
        assert f"old {n}" in shown


def test_history_and_fix_announcements_speak_words_not_ids(w):
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    fix = next(p for p in report.fixes if p.fix is FixKind.ADD_TRIGGER)
    w.cases.applying.apply(fix.id, actor=OPERATOR)
    announcement = w.notifier.top_level()[-1]
    body = str(announcement.blocks)
    assert "v1 → v1" not in body and "*Code*" not in body
    assert "add the Alexa Skills Kit trigger" in body
    shown = str(reports.history_blocks("trivia", w.cases.reading.history("trivia")))
    assert "fix:add_trigger" not in shown and "fix: add the Alexa trigger" in shown
    assert "(noop)" not in shown


def test_doctor_shows_the_routing_check_on_its_own_line(w):
    lines = plans.doctor_blocks(w.cases.planning.doctor("trivia", actor=OPERATOR))[1][1]["text"][
        "text"
    ]
    assert ":white_check_mark: PROD1 has no weighted routing" in lines
    assert ":white_check_mark: PROD2 has no weighted routing" in lines


def test_help_says_how_promotion_works_and_who_may_do_what():
    text = str(
        reports.help_blocks(
            ["trivia"],
            HELP,
            operators=[OPERATOR],
            approvers=[APPROVER],
            reaction="white_check_mark",
        )
    )
    assert "reacts with :white_check_mark:" in text
    assert "<@U0ALICE>" in text and "<@U0CAROL>" in text


@pytest.mark.parametrize("deleted", [("",), ("-wal",), ("-shm",), ("", "-wal", "-shm")])
def test_a_deleted_database_file_refuses_every_change(tmp_path, deleted):
    path = tmp_path / "skillbot.db"
    store = open_store(f"sqlite:///{path}")
    w = make_world(store=store)
    assert store.healthy()
    for suffix in ("", "-wal", "-shm"):  # the write-ahead log holds the newest commits
        assert os.path.exists(f"{path}{suffix}"), suffix
    for suffix in deleted:
        os.unlink(f"{path}{suffix}")
    assert not store.healthy()
    with pytest.raises(Unavailable, match=f"{path}{deleted[0]} was deleted or replaced") as err:
        w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    assert "Restart the bot" in err.value.hint
    assert w.alias("PROD1") == "1"


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(ConfigError, match="cannot be used") as err:
        open_store(f"sqlite:///{path}")
    assert "\n" not in err.value.message and "DATABASE_URL" in err.value.hint


def test_change_fields_default_to_announced():
    w = make_world()
    plan = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert change.announced and replace(change, announced=False).announced is False


def test_a_long_reason_is_cut_to_slacks_limits_rather_than_refused(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="why " * 2000)
    _, body = plans.plan_message(plan)  # validated by slack_sdk on the way out
    assert len(body[0]["text"]["text"]) == 3000 and body[0]["text"]["text"].endswith("…")
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    announcement = w.notifier.top_level("C0TRIVIA")[-1]
    assert all(len(b["text"]["text"]) <= 3000 for b in announcement.blocks if "text" in b)
    assert change.announced


def _bold_heading(blocks) -> str:
    """The first section's text: the message's bold heading and what follows it."""
    return next(b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b)


@pytest.mark.parametrize("operation", ["hotfix", "certify", "canary"])
def test_formatting_typed_in_a_reason_stays_out_of_the_bold_heading(w, operation):
    typed = "<!channel> *bold* <https://x|y>"
    w.lam.deploy("trivia-skill", "code-3")
    if operation == "canary":
        offer = w.cases.offers.propose_canary(
            "trivia", actor=OPERATOR, weight=0.1, seconds=600, reason=typed
        )
        w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    else:
        plan = w.cases.planning.plan(operation, "trivia", actor=OPERATOR, reason=typed)
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    [posted] = w.notifier.top_level()
    bold, quoted = _bold_heading(posted.blocks).split("\n")[:2]
    # the bot's words are bold from the first character to the last, nothing typed inside
    assert bold.startswith("*trivia: ") and bold.endswith("*") and bold.count("*") == 2
    assert "bold" not in bold and "channel" not in bold
    # the person's words follow on a quoted line of their own, escaped
    assert quoted == ">&lt;!channel&gt; *bold* &lt;https://x|y&gt;"
    # the fallback text still says who and why, on one line
    assert posted.text.splitlines()[0].endswith(" — &lt;!channel&gt; *bold* &lt;https://x|y&gt;")


def _fields(blocks) -> list[str]:
    return [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]


def test_a_promotion_card_names_the_alias_that_was_live_and_the_one_that_now_is(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    w.cases.promotion.promote("trivia", actor=APPROVER)
    promotion = w.notifier.top_level()[-1]
    shown = _fields(promotion.blocks)
    # not "Alias PROD2 / Version v1 → v3", which reads as if PROD2 had served v1
    assert shown[0] == "*Live*\n`PROD1` v1 → `PROD2` v3"
    assert not any(f.startswith("*Alias*") for f in shown)


def test_the_certification_message_says_since_when_never_a_duration_that_stops_aging(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    [message] = w.notifier.top_level()
    state = next(line for line in _bold_heading(message.blocks).splitlines() if "State" in line)
    started = int(change.certification.created_at.timestamp())
    # the message is not edited as time passes: a Slack date token, read in each reader's zone
    assert f"pending since <!date^{started}^" in state and "pending for" not in state


@pytest.mark.parametrize(
    ("answered", "shown"),
    [
        ("IN_PROGRESS", "passed; publication requested"),
        ("SCHEDULED", "passed; publication scheduled"),
        ("SUCCEEDED", "passed; published"),
    ],
)
def test_a_passed_review_says_what_the_publication_request_got(answered, shown):

    from bot.domain.alexa import PUBLICATION, Review

    at = datetime(2026, 12, 7, tzinfo=UTC)
    review = Review("c1", at, "SUCCEEDED", None, PUBLICATION + answered, at, None)
    # never "passed (publication IN_PROGRESS); published", which says two things at once
    assert review.describe() == shown


def test_status_flags_a_pending_certification_its_alias_no_longer_serves(w, capsys):
    from bot.domain.errors import Refused

    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.cases.reading.status("trivia").certification_drift is None
    # someone moves the candidate outside the bot (or the database is restored from before)
    w.lam.deploy("trivia-skill", "code-4")
    w.lam.point("trivia-skill", "PROD2", w.lam.publish_now("trivia-skill"))

    view = w.cases.reading.status("trivia")
    assert view.certification_drift == "PROD2 serves v4, not the certified v3"
    shown = str(reports.status_blocks(view)) + reports.status_text(view)
    assert "Promoting would be refused" in shown and "promoting would be refused" in shown
    assert "skillbot cancel trivia" in _terminal_status(view, capsys)
    # status says beforehand what promoting then refuses
    with pytest.raises(Refused, match="PROD2 now serves v4, not the certified v3"):
        w.cases.promotion.promote("trivia", actor=APPROVER)


def _terminal_status(view, capsys) -> str:
    from bot.cli.reading import show_status
    from bot.cli.render import Output
    from bot.service.offers import StatusReport

    show_status(Output(json_mode=False), {}, StatusReport(view))
    text = capsys.readouterr().out
    assert "promoting would be refused: PROD2 serves v4, not the certified v3" in text
    return text


def test_a_terminal_shows_a_refusal_naming_approvers_in_plain_words():
    from bot.cli.render import say as terminal
    from bot.service.access import AccessPolicy

    policy = AccessPolicy(frozenset({OPERATOR}), frozenset({APPROVER, "U0DAVE"}))
    with pytest.raises(NotAuthorized) as err:
        policy.require_approver(OPERATOR, "promote")

    assert terminal(err.value.told) == "Only approvers may promote. Ask one of U0CAROL, U0DAVE."
    assert say(err.value.told) == "Only approvers may promote. Ask one of <@U0CAROL>, <@U0DAVE>."


def test_a_terminal_shows_code_buttons_channels_and_links_without_slack_markup():
    from bot.cli.render import say as terminal
    from bot.domain.canary import Canary, CanaryState
    from bot.domain.rotation import check_no_canary
    from bot.service.announcing import Delivery

    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    canary = Canary(
        "c1", "trivia", "PROD1", "1", "3", 0.1, 600, OPERATOR, "", "p1", at,
        state=CanaryState.RUNNING, started_at=at,
    )  # fmt: skip
    with pytest.raises(Refused) as err:
        check_no_canary(canary, "PROD1", "a hotfix")
    refusal = terminal(err.value.told)
    assert "(started by U0ALICE, ends by itself at 09:10 UTC)" in refusal
    assert 'press "Complete now" or "Abort" on the canary message' in refusal
    slack = say(err.value.told)
    assert "*Complete now*" in slack and "(started by <@U0ALICE>, ends" in slack

    note = Delivery(False, "not_in_channel").note("C0TRIVIA")
    assert terminal(note).startswith("Applied in AWS, but Slack refused the announcement in ")
    assert "in C0TRIVIA: not_in_channel" in terminal(note)
    assert say(note).startswith(":warning: Applied in AWS") and "<#C0TRIVIA>" in say(note)

    said = words(
        "Set ", Code("four_eyes = false"), " or see ", Link("https://a.example/x", "the guide"),
        "; typed: ", Typed("*bold* `code` <@U1>"),
    )  # fmt: skip
    assert terminal(said) == (
        "Set four_eyes = false or see the guide (https://a.example/x); typed: *bold* `code` <@U1>"
    )
    assert say(said) == (
        "Set `four_eyes = false` or see <https://a.example/x|the guide>; typed: "
        "*bold* `code` &lt;@U1&gt;"
    )


def test_a_refusal_with_one_person_to_ask_does_not_say_one_of():
    from bot.service.access import AccessPolicy

    policy = AccessPolicy(frozenset({"U0ALICE"}), frozenset({"U0CAROL"}))
    with pytest.raises(NotAuthorized) as err:
        policy.require_approver("U0ALICE", "promote")
    assert say(err.value.told) == "Only approvers may promote. Ask <@U0CAROL>."
