"""Promotion: the certified candidate becomes live (a recorded role; no alias moves).

An approver promotes with the ``promote`` command or by reacting to the certification message;
with SMAPI, the skill is published first (only when its certification stage calls the
candidate) and a refusal or failure swaps nothing; what the live stage then calls is
checked, and a wrong endpoint is announced with the promotion::

    change = promotion.promote("trivia", actor="U0CAROL")
    change.live_alias   # 'PROD2'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain import rotation
from bot.domain.errors import NotAuthorized, Refused, SkillbotError
from bot.domain.freeze import next_moment, shown_at
from bot.domain.model import (
    AliasState,
    Certification,
    CertificationState,
    Change,
    Move,
    Operation,
    Outcome,
    Plan,
    ScheduledPromotion,
    Skill,
    new_id,
    version_label,
)
from bot.domain.words import Code, Icon, Person, Run, Words, plain, words
from bot.service.access import mentions
from bot.service.announcing import Announcer
from bot.service.context import RotationContext, outcome_of

log = logging.getLogger(__name__)


#: a scheduled promotion claimed this long ago and not finished was left by a dead process
SCHEDULED_STALE = timedelta(minutes=10)


@dataclass(frozen=True)
class Reaction:
    """A ``reaction_added`` event, as much of it as promotion needs."""

    user: str
    reaction: str
    channel: str
    ts: str
    item_type: str = "message"
    event_id: str | None = None


@dataclass(eq=False)
class Promotion:
    ctx: RotationContext
    announcer: Announcer
    _: KW_ONLY
    reaction: str
    approvers: list[str]
    four_eyes: bool = True
    #: how many distinct approvers' yes a promotion needs (``approvals`` of the file)
    approvals: int = 1
    #: runs under the lock before the roles swap; raising keeps the roles (SMAPI publish);
    #: returns alerts to announce with the promotion
    before_promotion: Callable[[Certification], Sequence[str | Words]] | None = None

    def promote(
        self,
        name: str | None = None,
        *,
        actor: str,
        certification_id: str | None = None,
        reason: str = "",
        override: bool = False,
    ) -> Change | Words:
        """Swap the roles and announce it. Idempotent: promoting an already promoted
        certification changes nothing. With ``approvals = N`` this is one approver's yes:
        the roles swap at the N-th (the words say how many are still missing)."""
        ctx = self.ctx
        cert = (
            ctx.store.get_certification(certification_id)
            if certification_id
            else ctx.store.pending_certification(ctx.skill(name or "").name)
        )
        skill_name = cert.skill if cert else ctx.skill(name or "").name
        try:
            ctx.access.require_approver(actor, "promote")
            if cert is None:
                raise Refused(
                    f"{skill_name} has no pending certification to promote.",
                    hint=words("Start one with ", Run("certify", skill_name), "."),
                )
            self._check_four_eyes(cert, actor)
            skill = ctx.skill(cert.skill)
            with ctx.store.skill_lock(skill.name, ctx.lock_timeout):
                past = ctx.may_change(skill, actor, override=override, reason=reason)
                waiting = self._approve(cert, actor)
                if waiting is not None:
                    return waiting
                promoted = self._promote_locked(skill, cert, actor, reason)
                if past is not None:
                    promoted = replace(promoted, plan=promoted.plan.with_(override=past))
                change = ctx.record_change(promoted, actor, owe=self.announcer.messages_for)
        except SkillbotError as err:
            ctx.audit(skill_name, "promote", outcome_of(err), actor, reason, detail=str(err))
            raise
        delivery = self.announcer.change_applied(change)
        if change.alerts and change.certification is not None:
            for alert in change.alerts:
                self.announcer.thread_reply(change.certification, alert)
        if not delivery.posted:
            channel = ctx.skill(change.plan.skill).channel
            change = replace(change, announced=False, notes=(delivery.note(channel),))
        return change

    # -- promotions set for a time ----------------------------------------------------------
    def schedule(
        self, name: str | None, *, actor: str, at: str, reason: str = "", override: bool = False
    ) -> Words:
        """``/skill promote --at TIME``: the promotion runs at TIME (in the file's zone),
        once across replicas and restarts, as ``actor``; ``--at cancel`` takes it back."""
        ctx = self.ctx
        skill = ctx.skill(name or "")
        cert = ctx.store.pending_certification(skill.name)
        try:
            ctx.access.require_approver(actor, "schedule a promotion")
            if cert is None:
                raise Refused(
                    f"{skill.name} has no pending certification to promote.",
                    hint=words("Start one with ", Run("certify", skill.name), "."),
                )
            self._check_four_eyes(cert, actor)
            if at.strip().lower() == "cancel":
                if not ctx.store.move_scheduled(cert.id, "scheduled", "cancelled", actor):
                    raise Refused(f"No promotion of {skill.name} is scheduled; nothing to cancel.")
                said = words(Person(actor), " cancelled the scheduled promotion.")
            else:
                zone = ZoneInfo(ctx.timezone)
                try:
                    when = next_moment(at, ctx.clock(), zone)
                except ValueError as err:
                    raise Refused(
                        str(err), hint=words("e.g. ", Code('--at "2026-12-10 09:00"'), " or ",
                                             Code("--at 09:00"), ".")
                    ) from None  # fmt: skip
                ctx.store.schedule_promotion(
                    ScheduledPromotion(cert.id, skill.name, when, actor, reason, override)
                )
                then = shown_at(when, ctx.timezone)
                said = words(
                    Person(actor),
                    f" scheduled the promotion of {cert.alias} for {then}; ",
                    Code("--at cancel"),
                    " takes it back.",
                )
        except SkillbotError as err:
            ctx.audit(skill.name, "promote-at", outcome_of(err), actor, reason, detail=str(err))
            raise
        ctx.audit(skill.name, "promote-at", Outcome.APPLIED, actor, reason, detail=plain(said))
        self.announcer.certification_changed(cert)
        self.announcer.thread_reply(cert, words(Icon("alarm_clock"), " ", said))
        return said

    def run_due(self) -> int:
        """The scheduler's pass: every promotion whose time has come runs once (claimed
        first, whichever replica); a time missed while the bot was down runs at start.
        Returns how many ran."""
        ctx = self.ctx
        ran = 0
        now = ctx.clock()
        for due in ctx.store.due_promotions(now, stale=now - SCHEDULED_STALE):
            if not ctx.store.move_scheduled(due.certification_id, "scheduled", "running", at=now):
                continue  # another replica has it
            ran += 1
            cert = ctx.store.get_certification(due.certification_id)
            if cert is None or not cert.pending:
                ctx.store.move_scheduled(due.certification_id, "running", "moot")
                continue
            reason = due.reason or f"scheduled for {shown_at(due.at, ctx.timezone)}"
            try:
                result = self.promote(
                    actor=due.scheduled_by,
                    certification_id=cert.id,
                    reason=reason,
                    override=due.override,
                )
            except SkillbotError as err:
                ctx.store.move_scheduled(cert.id, "running", "refused", str(err))
                self.announcer.thread_reply(
                    cert,
                    words(Icon("warning"), "The scheduled promotion did not run: ", err.told),
                )
                continue
            # words: approvals are still missing, as the thread says
            ctx.store.move_scheduled(
                cert.id, "running", "done" if isinstance(result, Change) else "waiting"
            )
        return ran

    def _approve(self, cert: Certification, actor: str) -> Words | None:
        """Record ``actor``'s yes to ``cert``; None once enough approvers said it (the roles
        swap), else what is missing, said in the certification's thread too."""
        if self.approvals <= 1 or not cert.pending:
            return None
        eligible = [a for a in self.approvers if a not in self._starters(cert)]
        if len(eligible) < self.approvals:
            raise Refused(
                f"This certification can never have {self.approvals} approvals: whoever "
                f"started or confirmed it does not count (four eyes), and {len(eligible)} "
                "other approver(s) are configured.",
                hint=words("Add approvers, or lower ", Code("approvals"), ", in the skills file."),
            )
        ctx = self.ctx
        new = ctx.store.add_approval(cert.id, actor, ctx.clock())
        approved = self.approved(cert)
        if len(approved) >= self.approvals:
            return None
        missing = self.approvals - len(approved)
        said = words(
            Person(actor),
            " approved" if new else " had approved already",
            f" ({len(approved)} of {self.approvals}); {missing} more approver"
            f"{'s' if missing > 1 else ''}' yes promotes {cert.alias}.",
        )
        if new:
            ctx.audit(cert.skill, "approve", Outcome.APPLIED, actor, "", detail=plain(said))
            self.announcer.certification_changed(cert)
            self.announcer.thread_reply(cert, words(Icon(self.reaction), " ", said))
        return said

    def approved(self, cert: Certification) -> list[str]:
        """Who approved ``cert`` and still counts (an approver, not its starter or
        confirmer under four eyes), in the order they did."""
        starters = self._starters(cert)
        return [
            a
            for a in self.ctx.store.approvals(cert.id)
            if a in self.approvers and a not in starters
        ]

    def _starters(self, cert: Certification) -> tuple[str | None, ...]:
        """Who may not approve ``cert`` under four eyes: who started or confirmed it."""
        return (cert.requested_by, cert.confirmed_by) if self.four_eyes else ()

    def reaction_removed(self, event: Reaction) -> None:
        """An approver took their emoji back: their yes no longer counts (before the
        promotion; after it, nothing changes)."""
        ctx = self.ctx
        if self.approvals <= 1 or event.reaction != self.reaction:
            return
        cert = ctx.store.certification_by_message(event.channel, event.ts)
        if cert is None or not cert.pending:
            return
        if event.event_id and not ctx.store.first_delivery(f"event:{event.event_id}", ctx.clock()):
            return
        if not ctx.store.remove_approval(cert.id, event.user):
            return
        said = words(
            Person(event.user),
            f" took their approval back ({len(self.approved(cert))} of {self.approvals}).",
        )
        ctx.audit(cert.skill, "unapprove", Outcome.APPLIED, event.user, "", detail=plain(said))
        self.announcer.certification_changed(cert)
        self.announcer.thread_reply(cert, said)

    def _check_four_eyes(self, cert: Certification, actor: str) -> None:
        starters = (cert.requested_by, cert.confirmed_by)
        if not (self.four_eyes and cert.pending and actor in starters):
            return
        did = "started" if actor == cert.requested_by else "confirmed"
        others = [a for a in self.approvers if a not in starters]
        raise NotAuthorized(
            f"You {did} this certification, so someone else must promote it (four eyes).",
            hint=words(
                words("Ask ", mentions(others), ".")
                if others
                else words("No other approver is configured: add one to ", Code("approvers"), "."),
                " A one-person team can turn this off with ",
                Code("four_eyes = false"),
                " in the skills file.",
            ),
        )

    def by_reaction(self, event: Reaction, *, bot_user: str | None) -> Change | None:
        """An emoji on a certification message: an approver's promotes (once, whichever
        replica gets the event); anyone else is told, once, who may."""
        ctx = self.ctx
        if event.reaction != self.reaction or event.item_type != "message":
            return None
        if not event.user or event.user == bot_user:
            return None
        cert = ctx.store.certification_by_message(event.channel, event.ts)
        if cert is None or not cert.pending:
            return None
        # Slack retries carry the same event_id; only the first delivery (any replica) counts
        if event.event_id and not ctx.store.first_delivery(f"event:{event.event_id}", ctx.clock()):
            log.info("event %s delivered again; ignored", event.event_id)
            return None
        if event.user not in ctx.access.approvers:
            ctx.record_refusal(cert.skill, "promote", event.user, "reaction by a non-approver")
            # told once per person and certification, whichever replica sees it, privately
            if ctx.store.first_delivery(f"not-approver:{cert.id}:{event.user}", ctx.clock()):
                self.announcer.not_an_approver(event.channel, event.user)
            return None
        try:
            result = self.promote(
                actor=event.user, certification_id=cert.id, reason=f"reacted :{self.reaction}:"
            )
            return result if isinstance(result, Change) else None  # words: an approval
        except NotAuthorized as err:  # e.g. four eyes: only the person who reacted is told
            told = words(Icon("warning"), "Could not promote: ", err.told)
            self.announcer.tell(event.channel, event.user, told)
            return None
        except SkillbotError as err:  # the team sees why the roles did not swap
            self.announcer.thread_reply(
                cert, words(Icon("warning"), Person(event.user), " Could not promote: ", err.told)
            )
            return None

    def complete_promotion(self, skill: Skill, cert: Certification, actor: str) -> Change:
        """Finish a promotion whose role tag was written but whose record was not (the
        caller holds the skill lock); announced like any promotion."""
        change = self._promote_locked(skill, cert, actor, "completed after a restart")
        change = self.ctx.record_change(change, actor, owe=self.announcer.messages_for)
        self.announcer.change_applied(change)
        return change

    def _promote_locked(self, skill: Skill, cert: Certification, actor: str, reason: str) -> Change:
        ctx = self.ctx
        lam = ctx.lambda_
        plan = Plan(
            id=new_id(),
            skill=skill.name,
            operation=Operation.PROMOTE,
            alias=cert.alias,
            requested_by=actor,
            reason=reason,
            created_at=ctx.clock(),
            # the role moves everywhere; the first placement's alias to the certified version
            moves=tuple(
                Move(p.region, p.function, None, None if i else cert.version, cert.code_sha256)
                for i, p in enumerate(skill.placements)
            ),
            certification_id=cert.id,
        )
        fresh = ctx.store.get_certification(cert.id)
        roles = ctx.roles(skill)
        if fresh is None or fresh.state is not CertificationState.PENDING:
            if fresh is not None and fresh.state is CertificationState.PROMOTED:
                return Change(
                    plan=plan,
                    alias=cert.alias,
                    from_version=None,
                    to_version=cert.version,
                    code_sha256=cert.code_sha256,
                    live_alias=roles.live_alias,
                    certification=fresh,
                    noop=True,
                )
            raise Refused(
                "That certification was cancelled; there is nothing to promote.",
                hint=words("Start a new one with ", Run("certify", skill.name), "."),
            )
        swapped = roles.live_alias == cert.alias  # a promotion cut short finishes here
        old_live = skill.other_alias(cert.alias)
        if not swapped:
            ctx.check_no_canary(skill, old_live, "promoting (the roles would swap)")
        moves = self._live_moves(skill, cert, old_live, check=not swapped)
        alerts: tuple[str | Words, ...] = ()
        if not swapped:
            # a trace first, then the tag: if we crash before the database write,
            # recovery (or promoting again) finds the roles swapped and completes the record
            ctx.store.mark_promoting(cert.id, ctx.clock())
            try:
                if self.before_promotion is not None:
                    alerts = tuple(self.before_promotion(cert))
                # the other placements' tags first: the first placement's tag is the role
                self._record_everywhere(skill, cert.alias)
                lam.write_live_alias(skill.placements[0].function, cert.alias)
            except SkillbotError:
                ctx.store.mark_promoting(cert.id, None)
                raise
        else:
            self._record_everywhere(skill, cert.alias)
        ctx.store.end_certification(cert.id, CertificationState.PROMOTED, actor, ctx.clock())
        return Change(
            plan=plan,
            alias=cert.alias,
            from_version=moves[0].from_version,
            to_version=cert.version,
            code_sha256=cert.code_sha256,
            live_alias=cert.alias,
            previous_live_alias=old_live,
            certification=ctx.store.get_certification(cert.id),
            alerts=alerts,
            regions=moves[1:],
        )

    def _live_moves(
        self, skill: Skill, cert: Certification, old_live: str, *, check: bool
    ) -> tuple[Move, ...]:
        """Every placement's move of the live role (its ``old_live`` version → its
        candidate's); ``check`` refuses a placement whose candidate does not serve the
        certified code (the first placement: the certified version itself)."""
        lam = self.ctx.lambda_
        moves = []
        for place in skill.placements:
            region, function = place.region, place.function
            candidate = lam.get_alias(function, cert.alias)
            if check and place is skill.placements[0]:
                candidate = rotation.require_alias(candidate, skill, cert.alias, function)
                if candidate.version != cert.version:
                    raise Refused(
                        f"{cert.alias} now serves {version_label(candidate.version)}, not the "
                        f"certified {version_label(cert.version)}; promoting would put "
                        "uncertified code live.",
                        hint=f"Move {cert.alias} back to {version_label(cert.version)}, or "
                        "cancel and certify again.",
                    )
            elif check and not self._serves(function, candidate, cert.code_sha256):
                now = version_label(candidate.version) if candidate else "nothing"
                raise Refused(
                    f"In {region}, {cert.alias} serves {now}, not the certified code "
                    f"({cert.code_sha256[:12]}…); promoting would put uncertified code live "
                    f"there. Nothing was changed in any region.",
                    hint=words(
                        "Cancel and certify again (",
                        Run("cancel", skill.name),
                        ", then ",
                        Run("certify", skill.name),
                        "): every region moves together.",
                    ),
                )
            before = lam.get_alias(function, old_live)
            moves.append(
                Move(
                    region,
                    function,
                    before.version if before else None,
                    candidate.version if candidate else None,
                    cert.code_sha256,
                )
            )
        return tuple(moves)

    def _serves(self, function: str, alias: AliasState | None, code_sha256: str) -> bool:
        serving = (
            self.ctx.lambda_.get_version(function, alias.version)
            if alias and alias.version.isdigit()
            else None
        )
        return serving is not None and serving.code_sha256 == code_sha256

    def _record_everywhere(self, skill: Skill, live_alias: str) -> None:
        """The live role on every regional function whose tag says otherwise."""
        lam = self.ctx.lambda_
        for function in (p.function for p in skill.placements[1:]):
            if lam.read_live_alias(function) != live_alias:
                lam.write_live_alias(function, live_alias)
