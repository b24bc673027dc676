"""Health reports: after every alias change (hotfix, rollback, promotion), at each delay
of ``health_report``, a chart of the live alias in the announcement's thread — every
executed version's invocations, error rate and p99 duration, as long before the change
as after it — and one line of verdict; when it is worse beyond the canary's margin, a
**Roll back** offer. Due rows survive restarts and are claimed by one replica; the chart
is owed in the outbox like any message. ``/skill report`` draws the same on demand::

    reports.schedule(change, thread="announce:e1")   # rows at +1h and +24h
    reports.run_due()                                # the scheduler, every 30 s
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

from bot.domain.actors import display
from bot.domain.canary import CanaryRules
from bot.domain.errors import SkillbotError
from bot.domain.health import VersionPoint, judge, side
from bot.domain.model import Change, HealthReportDue, Operation, Skill, new_id
from bot.domain.news import RollbackOffer
from bot.domain.words import Channel, Words, words
from bot.ports import ChartPort, HealthReportBook, MetricsPort, SharedFile
from bot.service.context import RotationContext
from bot.service.outbox import Outbox

log = logging.getLogger(__name__)

#: changes a health report follows (a canary's end is announced by the canary)
REPORTED = (Operation.HOTFIX, Operation.ROLLBACK, Operation.PROMOTE)
#: a claimed report not done by then was its dead process's: another takes it
LEASE = timedelta(minutes=10)


def period_for(window: timedelta) -> int:
    """A CloudWatch period giving about 60 points over ``window`` (at least a minute).

    >>> period_for(timedelta(hours=1)), period_for(timedelta(hours=24))
    (60, 1440)
    """
    return max(60, int(window.total_seconds() // 60) // 60 * 60)


def label(delay: timedelta) -> str:
    """``1h``, ``24h``, ``90m``, ``30s``.

    >>> label(timedelta(hours=24)), label(timedelta(minutes=90)), label(timedelta(seconds=30))
    ('24h', '90m', '30s')
    """
    seconds = int(delay.total_seconds())
    if seconds % 60:
        return f"{seconds}s"
    minutes = seconds // 60
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


@dataclass(eq=False)
class HealthReports:
    ctx: RotationContext
    book: HealthReportBook
    metrics: MetricsPort
    charts: ChartPort
    outbox: Outbox
    _: KW_ONLY
    rules: CanaryRules
    delays: Sequence[timedelta]
    owner: str = field(default_factory=new_id)

    # -- owed after a change ------------------------------------------------------------
    def schedule(self, change: Change, *, thread: str) -> None:
        """Owe a report at each delay after ``change`` (in ``thread``'s message)."""
        op = change.plan.operation
        if change.noop or op not in REPORTED or not self.delays or not change.audit_id:
            return
        if change.to_version is None or change.alias is None:
            return
        skill = self.ctx.skill(change.plan.skill)
        at = self.ctx.clock()
        before_alias = change.previous_live_alias or change.alias
        alias, to_version = change.alias, change.to_version
        self.book.schedule_reports(
            [
                HealthReportDue(
                    key=f"{change.audit_id}:{int(delay.total_seconds())}",
                    skill=skill.name,
                    alias=alias,
                    before_alias=before_alias,
                    from_version=change.from_version,
                    to_version=to_version,
                    change_at=at,
                    delay_seconds=int(delay.total_seconds()),
                    thread=thread,
                    channel=skill.channel,
                    due_at=at + delay,
                )
                for delay in self.delays
            ]
        )

    def run_due(self) -> int:
        """Post the reports due now (this replica's claims); the number posted."""
        now = self.ctx.clock()
        done = 0
        for report in self.book.claim_reports(self.owner, now, now + LEASE, limit=5):
            if report.skill not in self.ctx.skills:  # no longer in the skills file
                self.book.finish_report(report.key, "skill no longer configured")
                continue
            try:
                outcome = self._post(report)
            except SkillbotError as err:  # CloudWatch unreadable: said in the thread
                outcome = f"not drawn: {err.message}"
                key = f"health:{report.key}"
                said = f"No health report {label(timedelta(seconds=report.delay_seconds))} "
                said += f"after the change: CloudWatch could not be read ({err.message})."
                self.outbox.send(self.outbox.post(key, report.channel, said, thread=report.thread))
            self.book.finish_report(report.key, outcome)
            done += 1
        return done

    def _post(self, report: HealthReportDue) -> str:
        skill = self.ctx.skill(report.skill)
        delay = timedelta(seconds=report.delay_seconds)
        versions = [v for v in (report.from_version, report.to_version) if v]
        period = period_for(delay)
        before = self._points(skill, report.before_alias, versions, report.change_at - delay,
                              report.change_at, period)  # fmt: skip
        after = self._points(skill, report.alias, versions, report.change_at,
                             report.change_at + delay, period)  # fmt: skip
        verdict = judge(
            side(before),
            side(after),
            max_error_rate_increase=self.rules.max_error_rate_increase,
            min_invocations=self.rules.min_invocations,
        )
        heading = f"{skill.name}: {label(delay)} after {report.alias} v{report.to_version}"
        line = f"{heading}. {verdict.line()}"
        if verdict.no_data:
            key = f"health:{report.key}"
            self.outbox.send(self.outbox.post(key, report.channel, line, thread=report.thread))
            return "no figures"
        title = (
            f"{skill.name} {report.alias}: {label(delay)} before and after "
            f"v{report.from_version or '?'} → v{report.to_version}"
        )
        png = self.charts.draw([*before, *after], title=title, change_at=report.change_at)
        name = f"{skill.name}-{report.alias}-{label(delay)}-{report.key.split(':')[0][:8]}.png"
        chart = SharedFile(name, png, title)
        owed = [self.outbox.share(f"chart:{report.key}", report.channel, chart, line,
                                  thread=report.thread)]  # fmt: skip
        if verdict.worse and report.from_version:
            offer = RollbackOffer(skill.name, report.from_version, verdict.why)
            owed.append(
                self.outbox.post(f"offer:{report.key}", report.channel, offer, thread=report.thread)
            )
        self.outbox.send(*owed)
        return "worse" if verdict.worse else "posted"

    def _points(
        self,
        skill: Skill,
        alias: str,
        versions: Sequence[str],
        start: datetime,
        end: datetime,
        period: int,
    ) -> list[VersionPoint]:
        """Every placement's figures of ``alias`` (a region's versions, summed by number)."""
        points: list[VersionPoint] = []
        for placement in skill.placements:
            points += self.metrics.version_points(
                placement.function, alias, versions, start, end, period
            )
        return points

    # -- on demand ----------------------------------------------------------------------
    def report(self, name: str, *, actor: str, since: int | None = None) -> Words:
        """``/skill report``: the live alias over the last ``since`` seconds (24 h), with
        its current and previous versions, posted in the skill's channel."""
        skill = self.ctx.skill(name)
        window = timedelta(seconds=since or 24 * 3600)
        roles = self.ctx.roles(skill)
        live = roles.live_alias
        state = self.ctx.lambda_.get_alias(skill.placements[0].function, live)
        current = state.version if state else None
        moves = self.ctx.store.alias_moves(skill.name, live, limit=1)
        previous = moves[0].from_version if moves else None
        versions = [v for v in (previous, current) if v]
        now = self.ctx.clock()
        points = self._points(skill, live, versions, now - window, now, period_for(window))
        when = moves[0].at if moves and moves[0].at > now - window else None
        total = side(points)
        said = (
            f"{skill.name} {live} over the last {label(window)}, asked by {display(actor)}: "
            f"{total.invocations} invocations, error rate "
            + (f"{total.rate:.1f}%" if total.rate is not None else "–")
            + (f", p99 {total.p99_ms:.0f} ms." if total.p99_ms is not None else ".")
        )
        key = f"report:{new_id()}"
        if not points:
            message = f"{said} CloudWatch has no figures for it in that time."
            delivery = self.outbox.send(self.outbox.post(key, skill.channel, message))
        else:
            title = f"{skill.name} {live}: the last {label(window)}"
            png = self.charts.draw(points, title=title, change_at=when)
            chart = SharedFile(f"{skill.name}-{live}-{label(window)}.png", png, title)
            delivery = self.outbox.send(self.outbox.share(key, skill.channel, chart, said))
        if not delivery.posted:
            return words(delivery.note(skill.channel, what="the report", done="Drawn"))
        return words("Posted the report in ", Channel(skill.channel), ".")
