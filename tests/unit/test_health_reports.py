"""Health reports: after a hotfix, rollback or promotion, at each delay of
``health_report``, the chart and its verdict in the announcement's thread (a Roll back
offer when worse), once across replicas; ``/skill report`` on demand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.slack import kit
from bot.adapters.store import open_store
from handlers.actions import PlanButtons
from tests.support.fakes import Recorder
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import compose_over, make_world

FN = "trivia-skill"


class FakeCharts:
    """Records what it was asked to draw; a PNG's first bytes stand for the image."""

    def __init__(self) -> None:
        self.drawn: list[dict] = []

    def draw(self, points, *, title, change_at) -> bytes:
        self.drawn.append({"points": list(points), "title": title, "change_at": change_at})
        return b"\x89PNG\r\n\x1a\n" + title.encode()


@pytest.fixture
def w(tmp_path):
    world = make_world(store=open_store(f"sqlite:///{tmp_path / 'skillbot.db'}"))
    world.services.runtime.health.charts = FakeCharts()
    return world


def hotfix(w, reason="crash"):
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason=reason)
    return w.cases.applying.apply(plan.id, actor=OPERATOR)


def traffic(w, version, *, minutes, errors=0, invocations=100, start=0):
    """What Lambda published for PROD1: ``minutes`` of calls from ``start`` minutes on."""
    for minute in range(start, start + minutes):
        at = w.clock() + timedelta(minutes=minute)
        w.metrics.record(at, version, invocations, errors)


def shared(w):
    return [(posted, file) for posted, file in w.notifier.shared]


def test_a_hotfix_gets_a_chart_in_its_thread_an_hour_and_a_day_later(w):
    traffic(w, "1", minutes=60, start=-60, errors=1)
    change = hotfix(w)
    [announcement] = w.notifier.top_level()
    traffic(w, "3", minutes=60, errors=1)
    w.metrics.p99_ms.update({"1": 180.0, "3": 170.0})
    health = w.services.runtime.health

    w.clock.advance(minutes=59)
    assert health.run_due() == 0, "not due before its hour"
    w.clock.advance(minutes=1)
    assert health.run_due() == 1
    [(posted, png)] = shared(w)
    assert posted.thread_ts == announcement.ts
    assert png.content.startswith(b"\x89PNG") and png.filename.endswith(
        "-1h-" + change.audit_id[:8] + ".png"
    )
    assert posted.text == (
        "trivia: 1h after PROD1 v3. Error rate 1.0% → 1.0%, p99 180 ms → 170 ms: "
        "no worse than before."
    )
    [drawn] = health.charts.drawn
    assert {p.version for p in drawn["points"]} == {"1", "3"}
    assert drawn["title"] == "trivia PROD1: 1h before and after v1 → v3"
    assert not [p for p in w.notifier.posted if "Roll back" in str(p.blocks)]

    w.clock.advance(hours=23)
    assert health.run_due() == 1
    assert len(shared(w)) == 2 and "24h after" in shared(w)[1][0].text
    w.clock.advance(days=2)
    assert health.run_due() == 0, "each report once"


def test_a_worse_release_offers_a_rollback_plan(w):
    traffic(w, "1", minutes=60, start=-60)
    hotfix(w)
    traffic(w, "3", minutes=60, errors=10)  # 10 % errors
    w.clock.advance(hours=1)
    w.services.runtime.health.run_due()
    [(posted, _)] = shared(w)
    assert "worse than before (error rate up 10.0 points)" in posted.text
    [offer] = [p for p in w.notifier.posted if p.key.startswith("offer:")]
    assert offer.thread_ts == posted.thread_ts
    [button] = [e for b in offer.blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == kit.ROLLBACK_OFFER and button["text"]["text"] == "Roll back to v1"
    # the button plans an ordinary rollback for whoever clicks, confirmed like any other
    answer, buttons = Recorder(), PlanButtons(w.services.cases)
    click = {"user": {"id": OPERATOR}, "actions": [dict(button)]}
    buttons.rollback_offer(click, answer)
    assert answer.last["text"].startswith("Plan: rollback trivia: PROD1 v3 → v1")
    plan_id = answer.last["blocks"][1]["elements"][0]["value"]
    buttons.confirm({"user": {"id": OPERATOR}, "actions": [{"value": plan_id}]}, Recorder())
    assert w.alias("PROD1") == "1"


def test_no_figures_yet_is_said_in_a_sentence_not_an_empty_chart(w):
    hotfix(w)
    w.clock.advance(hours=1)
    w.services.runtime.health.run_due()
    assert shared(w) == []
    [said] = [p for p in w.notifier.posted if p.key.startswith("health:")]
    assert (
        said.text
        == "trivia: 1h after PROD1 v3. CloudWatch has no invocations around this change yet."
    )


def test_a_promotion_compares_the_old_live_alias_with_the_new(w):
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    traffic(w, "1", minutes=60, start=-60)
    w.cases.promotion.promote("trivia", actor=APPROVER)
    for minute in range(60):
        w.metrics.record(w.clock() + timedelta(minutes=minute), "3", 100, alias="PROD2")
    w.clock.advance(hours=1)
    assert w.services.runtime.health.run_due() == 1
    [(posted, _)] = shared(w)
    assert "1h after PROD2 v3" in posted.text and "Error rate 0.0% → 0.0%" in posted.text


def test_two_replicas_post_each_report_once(w):
    other = compose_over(w.lam, open_store(w.store.engine.url.render_as_string(False)), w.clock,
                         w.notifier)  # fmt: skip
    other.runtime.health.charts = FakeCharts()
    traffic(w, "1", minutes=60, start=-60)
    hotfix(w)
    traffic(w, "3", minutes=60)
    w.clock.advance(hours=1)
    assert w.services.runtime.health.run_due() + other.runtime.health.run_due() == 1
    assert len(shared(w)) == 1


def test_health_report_off_schedules_nothing(tmp_path):
    world = make_world(health_report=[])
    world.services.runtime.health.charts = FakeCharts()
    hotfix(world)
    world.clock.advance(days=2)
    assert world.services.runtime.health.run_due() == 0
    assert world.notifier.shared == []


def test_report_on_demand_posts_the_live_alias_in_the_channel(w):
    traffic(w, "1", minutes=60, start=-120)
    hotfix(w)
    traffic(w, "3", minutes=30)
    w.clock.advance(minutes=30)
    said = w.cases.health.report("trivia", actor=OPERATOR, since=6 * 3600)
    assert "Posted the report in" in str(said)
    [(posted, png)] = shared(w)
    assert posted.thread_ts is None and posted.channel == "C0TRIVIA"
    assert posted.text.startswith("trivia PROD1 over the last 6h, asked by <@U0ALICE>: 9000")
    assert png.filename == "trivia-PROD1-6h.png"


def test_a_refused_chart_is_shared_once_slack_takes_it(w):
    from bot.domain.errors import Unavailable

    traffic(w, "1", minutes=60, start=-60)
    hotfix(w)
    traffic(w, "3", minutes=60)
    w.clock.advance(hours=1)
    w.notifier.refuse(Unavailable("Slack: could not share (service_unavailable)."))
    w.services.runtime.health.run_due()
    assert shared(w) == []
    w.clock.advance(seconds=5)
    w.services.runtime.outbox.run()
    assert len(shared(w)) == 1
