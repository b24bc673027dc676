"""A skill locked by a person ("not now": an incident is open): every change to it is
refused, from Slack, the command line or a pipeline, until it is unlocked::

    Locking(ctx, announcer).lock("trivia", actor="U0ALICE", reason="incident 42")

The lock is a row of the database (it survives restarts and holds for every replica),
written with its audit event in one transaction; the event is the announcement it owes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain import actors
from bot.domain.errors import Refused, SkillbotError
from bot.domain.model import AuditEvent, Outcome, SkillLock, escape, new_id
from bot.domain.rotation import locked_by
from bot.domain.words import Run, Words, words
from bot.service.announcing import Announcer
from bot.service.context import RotationContext, outcome_of


@dataclass
class Locking:
    ctx: RotationContext
    announcer: Announcer
    #: after a lock or an unlock (the App Home shows it)
    refresh: Callable[[], None] = lambda: None

    def lock(self, name: str, *, actor: str, reason: str = "") -> Words:
        """Lock skill ``name``; refused when it is locked already (by anyone)."""
        ctx = self.ctx
        skill = ctx.skill(name)
        try:
            ctx.access.require_operator_or_approver(actor, "lock a skill")
            wanted = SkillLock(skill.name, actor, reason, ctx.clock())
            told = f":lock: {skill.name} locked by {actors.display(actor)}"
            told += f": {escape(reason)}" if reason else ""
            event = self._event(skill.name, "lock", actor, reason, told + ". Every change to "
                                "it is refused until it is unlocked.")  # fmt: skip
            with ctx.store.skill_lock(skill.name, ctx.lock_timeout):  # after a change under way
                held = ctx.store.add_lock(wanted, event, self.announcer.event_messages(event))
            if held != wanted:
                raise Refused(
                    words("Already locked: ", locked_by(held), "."),
                    hint=words(Run("unlock", skill.name), " first, to lock it anew."),
                )
        except SkillbotError as err:
            ctx.audit(skill.name, "lock", outcome_of(err), actor, reason, detail=str(err))
            raise
        return self._announced(
            event,
            skill.channel,
            words(
                locked_by(wanted),
                ". Every change to it is refused until ",
                Run("unlock", skill.name),
                ".",
            ),
            "Locked",
        )

    def unlock(self, name: str, *, actor: str) -> Words:
        """Unlock skill ``name``; refused when it is not locked."""
        ctx = self.ctx
        skill = ctx.skill(name)
        try:
            ctx.access.require_operator_or_approver(actor, "unlock a skill")
            held = ctx.store.lock_of(skill.name)
            if held is None:
                raise Refused(f"{skill.name} is not locked; nothing to unlock.")
            told = (
                f":unlock: {skill.name} unlocked by {actors.display(actor)} (locked by "
                f"{actors.display(held.locked_by)} since {held.locked_at:%Y-%m-%d %H:%M} UTC). "
                "Changes are allowed again."
            )
            event = self._event(skill.name, "unlock", actor, "", told)
            owed = self.announcer.event_messages(event)
            if ctx.store.remove_lock(skill.name, event, owed) is None:
                raise Refused(f"{skill.name} was unlocked meanwhile; nothing to unlock.")
        except SkillbotError as err:
            ctx.audit(skill.name, "unlock", outcome_of(err), actor, "", detail=str(err))
            raise
        said = words(f"{skill.name} is unlocked: changes are allowed again.")
        return self._announced(event, skill.channel, said, "Unlocked")

    def _event(self, skill: str, operation: str, actor: str, reason: str, told: str) -> AuditEvent:
        """The record of a lock or unlock; its detail is the announcement."""
        return AuditEvent(
            id=new_id(),
            at=self.ctx.clock(),
            skill=skill,
            operation=operation,
            outcome=Outcome.APPLIED,
            actor=actor,
            reason=reason,
            detail=told,
        )

    def _announced(self, event: AuditEvent, channel: str, said: Words, done: str) -> Words:
        delivery = self.announcer.event_recorded(event)
        pending = self.ctx.store.pending_certification(event.skill)
        if pending is not None:  # its message says whether promoting waits for an unlock
            self.announcer.certification_changed(pending)
        self.refresh()
        if delivery.posted:
            return said
        return words(said, " ", delivery.note(channel, done=done))
