"""The rotation's rules, as pure functions over values read beforehand.

The service reads AWS and the store, then asks these functions what is allowed and
what would change; nothing here performs I/O, so every guard is unit-tested directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.canary import Canary
from bot.domain.errors import NotFound, Refused, StalePlan
from bot.domain.freeze import frozen_until
from bot.domain.model import (
    LATEST,
    AlexaTrigger,
    AliasState,
    AuditEvent,
    Certification,
    FixKind,
    Move,
    Operation,
    Plan,
    Roles,
    Skill,
    SkillLock,
    version_label,
)
from bot.domain.prune import STORAGE_WARNING, size_label
from bot.domain.words import Button, Code, Person, Run, Typed, Words, as_words, plain, words


def resolve_roles(skill: Skill, recorded_live_alias: str | None) -> Roles:
    """The recorded role wins; the skills file's ``live_alias`` is adopted until one is.

    >>> from bot.domain.model import Placement
    >>> s = Skill("t", (Placement("NA", "f"),), "id", ("PROD1", "PROD2"), "PROD1", "C")
    >>> resolve_roles(s, "PROD2").live_alias, resolve_roles(s, None).recorded
    ('PROD2', False)
    """
    if recorded_live_alias in skill.aliases:
        live = recorded_live_alias
        return Roles(live, skill.other_alias(live), recorded=True)
    live = skill.initial_live_alias
    return Roles(live, skill.other_alias(live), recorded=False)


def check_published(version: str, alias: str) -> None:
    """The live alias (and the candidate, which becomes live) never serves ``$LATEST``."""
    if version == LATEST or not version.isdigit():
        raise Refused(
            f"{alias} must point at a published version, not {version!r}.",
            hint="Name a version number (e.g. 7), or leave it out to publish $LATEST.",
        )


def check_not_candidate_code(
    code_sha256: str, target_label: str, pending: Certification | None
) -> None:
    """Refuse putting the pending candidate's code on live: it needs the uncertified model."""
    if pending is not None and pending.code_sha256 == code_sha256:
        raise Refused(
            f"{target_label} has the same code as the pending certification "
            f"({version_label(pending.version)} on {pending.alias}); it belongs to the "
            "uncertified skill model and would break the live skill.",
            hint="Promote it once certification passes, or deploy a fix that works with "
            "the live model.",
        )


def check_no_pending(pending: Certification | None, skill: str) -> None:
    if pending is not None:
        raise Refused(
            words(
                f"{skill} already has a pending certification: "
                f"{version_label(pending.version)} on {pending.alias}, started by ",
                Person(pending.requested_by),
                ".",
            ),
            hint=words(
                "Promote it (",
                Run("promote", skill),
                ") or cancel it (",
                Run("cancel", skill),
                ") first.",
            ),
        )


def check_no_canary(canary: Canary | None, alias: str | None, doing: str) -> None:
    """While a canary runs, nothing else changes its (live) alias or the roles."""
    if canary is None or not canary.active or (alias is not None and alias != canary.alias):
        return
    ends = f", ends by itself at {canary.ends_at:%H:%M} UTC" if canary.ends_at else ""
    raise Refused(
        words(
            f"A canary runs on {canary.skill}'s {canary.alias}: "
            f"{version_label(canary.new_version)} takes {canary.weight:.0%} of traffic beside "
            f"{version_label(canary.old_version)} (started by ",
            Person(canary.requested_by),
            f"{ends}); {doing} would change that alias.",
        ),
        hint=words(
            "End it first: press ",
            Button("Complete now"),
            " or ",
            Button("Abort"),
            " on the canary message in the channel, or wait for it to finish; then try again.",
        ),
    )


def locked_by(lock: SkillLock) -> Words:
    """``trivia is locked by <@U0ALICE> since 2026-12-07 09:00 UTC: incident 42``."""
    why = (": ", Typed(lock.reason)) if lock.reason else ()
    return words(
        f"{lock.skill} is locked by ",
        Person(lock.locked_by),
        f" since {lock.locked_at:%Y-%m-%d %H:%M} UTC",
        *why,
    )


def check_not_frozen(skill: Skill, now: datetime, zone: str) -> None:
    """Inside one of the skill's freeze windows, nothing changes it."""
    found = frozen_until(skill.freeze, now, ZoneInfo(zone))
    if found is None:
        return
    window, ends = found
    local = ends.astimezone(ZoneInfo(zone))
    raise Refused(
        words(
            f"{skill.name} is frozen: the window ",
            Code(window.text),
            f" of the skills file lasts until {local:%a %Y-%m-%d %H:%M} ({zone}). Nothing "
            "was changed.",
        ),
        hint="Try again after it ends.",
    )


def overridden(refusal: Refused, reason: str) -> str:
    """What ``--override`` goes past (the lock or freeze window of ``refusal``), or a
    refusal when no reason says why.

    >>> overridden(Refused("trivia is locked by U1."), "launch fix")
    'trivia is locked by U1'
    """
    if not reason.strip():
        raise Refused(
            words(Code("--override"), " needs a reason: say why the change cannot wait."),
            hint=words(
                "Add it after ", Code("--"), ", e.g. ", Code("--override -- outage fix"), "."
            ),
        )
    return plain(refusal.said).split(". Nothing was changed")[0].rstrip(".")


def check_unlocked(lock: SkillLock | None) -> None:
    """While a person holds the skill's lock, nothing changes it."""
    if lock is None:
        return
    raise Refused(
        words(
            locked_by(lock), ". Nothing was changed: every change to it waits until it is unlocked."
        ),
        hint=words(
            "Ask whoever locked it; when it may change again, an operator or approver runs ",
            Run("unlock", lock.skill),
            ".",
        ),
    )


def require_alias(state: AliasState | None, skill: Skill, alias: str, function: str) -> AliasState:
    """``state``, the alias ``alias`` of ``function`` (one of ``skill``'s placements')."""
    if state is None:
        raise NotFound(
            f"Alias {alias} of {function} does not exist.",
            # a promotion by reaction says it in the thread as plain text
            hint=words("Run ", Run("doctor", skill.name), " and press Fix to create it."),
        )
    return state


def previous_version(current: str, moves: Sequence[AuditEvent]) -> str | None:
    """Where a rollback of an alias now on ``current`` goes, from its applied moves.

    Moves are newest first. A rollback's own move is skipped, so rolling back twice
    steps further back instead of undoing the first rollback.

    >>> from datetime import datetime, UTC
    >>> from bot.domain.model import Outcome
    >>> def mv(op, a, b):
    ...     return AuditEvent("i", datetime.now(UTC), "s", op, Outcome.APPLIED, "U",
    ...                       alias="P", from_version=a, to_version=b)
    >>> previous_version("3", [mv("rollback", "4", "3"), mv("hotfix", "3", "4"),
    ...                        mv("hotfix", "1", "3")])
    '1'
    """
    for move in moves:
        if move.operation == Operation.ROLLBACK.value:
            continue
        if move.to_version == current and move.from_version not in (None, current, LATEST):
            return move.from_version
    return None


def check_fresh(plan: Plan, current: AliasState, move: Move | None = None) -> None:
    """Refuse a plan whose alias moved since it was shown (version or revision), at
    ``move``'s placement (the plan's first move unless given)."""
    shown = move or plan.moves[0]
    if current.version != shown.from_version or current.revision_id != shown.revision_id:
        moved = (
            f"from {version_label(shown.from_version)} to {version_label(current.version)}"
            if current.version != shown.from_version
            else "(its configuration changed)"
        )
        raise StalePlan(
            f"{plan.alias} moved {moved} since this plan was shown "
            f"at {plan.created_at:%H:%M:%S} UTC.",
            hint=words("Nothing was changed. Run ", plan.run, " again to see a fresh plan."),
        )


@dataclass(frozen=True)
class Finding:
    """One doctor check. ``ok`` False means a problem; ``fix`` says what Fix would do;
    ``checked`` False means the check could not run (no problem found, none ruled out)."""

    check: str
    ok: bool
    detail: str | Words
    fix: FixKind | None = None
    alias: str | None = None
    fix_version: str | None = None
    checked: bool = True


def diagnose(
    skill: Skill,
    roles: Roles,
    recorded_live_alias: str | None,
    aliases: dict[str, AliasState | None],
    triggers: dict[str, list[AlexaTrigger]],
    newest_version: str | None,
    canary: Canary | None = None,
) -> list[Finding]:
    """Doctor's checks: aliases exist, verified Alexa triggers, no routing, role record.

    Weights that ``canary`` (running) set are reported as the canary, not as leftovers."""
    findings: list[Finding] = []
    for alias in skill.aliases:
        role = "live" if alias == roles.live_alias else "candidate"
        state = aliases.get(alias)
        if state is None:
            other = aliases.get(skill.other_alias(alias))
            target = other.version if other and other.version != LATEST else newest_version
            findings.append(
                Finding(
                    f"alias {alias} exists",
                    False,
                    f"{alias} ({role}) is missing"
                    + (
                        f"; Fix creates it on {version_label(target)}."
                        if target
                        else "; publish a version first (no published version exists)."
                    ),
                    FixKind.CREATE_ALIAS if target else None,
                    alias,
                    target,
                )
            )
            continue
        findings.append(
            Finding(
                f"alias {alias} exists", True, f"{alias} ({role}) → {version_label(state.version)}"
            )
        )
        if state.version == LATEST:
            findings.append(
                Finding(
                    f"{alias} on a published version",
                    False,
                    f"{alias} points at $LATEST: any deployment changes the {role} skill.",
                    alias=alias,
                )
            )
        if (
            state.routing
            and canary
            and canary.alias == alias
            and canary.weights_are_ours(state.routing)
        ):
            findings.append(
                Finding(
                    f"{alias} has no weighted routing",
                    True,
                    f"{alias} runs a canary: {version_label(canary.new_version)} takes "
                    f"{canary.weight:.0%} of traffic (skillbot ends it)",
                )
            )
        elif state.routing:
            weights = ", ".join(f"{version_label(v)} {w:.0%}" for v, w in state.routing.items())
            findings.append(
                Finding(
                    f"{alias} has no weighted routing",
                    False,
                    f"{alias} still sends traffic to {weights}.",
                    FixKind.CLEAR_ROUTING,
                    alias,
                )
            )
        else:
            findings.append(
                Finding(
                    f"{alias} has no weighted routing",
                    True,
                    f"{alias} sends all its traffic to {version_label(state.version)}",
                )
            )
        if not skill.behind_gateway:  # behind API Gateway, Alexa never invokes the alias itself
            findings.append(_trigger_finding(skill, alias, triggers.get(alias, [])))
    if recorded_live_alias in skill.aliases:
        findings.append(
            Finding("role record", True, f"{recorded_live_alias} is recorded as live (tag)")
        )
    else:
        what = (
            f"the tag names {recorded_live_alias!r}, not one of {', '.join(skill.aliases)}"
            if recorded_live_alias
            else "no live alias is recorded on the function"
        )
        findings.append(
            Finding(
                "role record",
                False,
                f"{what}; Fix records {roles.live_alias} as live.",
                FixKind.RECORD_ROLES,
                roles.live_alias,
            )
        )
    return findings


def _trigger_finding(skill: Skill, alias: str, triggers: list[AlexaTrigger]) -> Finding:
    check = f"Alexa trigger on {alias}"
    if any(t.skill_id == skill.alexa_skill_id for t in triggers):
        return Finding(check, True, f"{alias} accepts {skill.alexa_skill_id} only")
    if any(t.skill_id is None for t in triggers):
        detail = f"{alias} accepts any skill (no skill-id verification)"
    elif triggers:
        others = ", ".join(sorted({t.skill_id or "" for t in triggers}))
        detail = f"{alias} accepts another skill ({others}), not {skill.alexa_skill_id}"
    else:
        detail = f"{alias} has no Alexa Skills Kit trigger: Alexa cannot call it"
    return Finding(
        check, False, detail + "; Fix adds a verified trigger.", FixKind.ADD_TRIGGER, alias
    )


def storage_finding(
    used: int | None, limit: int | None, skill: str, problem: str | Words = ""
) -> Finding:
    """Code storage of the region against its quota; suggests prune above 80 %. Storage
    that could not be read is a check that did not run, never a pass."""
    check = "code storage"
    if used is None or not limit:
        said = words("could not be read: ", problem or "AWS gave no figures", ".")
        return Finding(check, True, said, checked=False)
    share = used / limit
    detail = f"{size_label(used)} of {size_label(limit)} used ({share:.0%})"
    if share <= STORAGE_WARNING:
        return Finding(check, True, detail)
    return Finding(
        check,
        False,
        words(
            f"{detail}: publishing fails when it is full. Delete old versions with ",
            Run("prune", skill),
            ".",
        ),
    )


def fix_plan(
    finding: Finding, skill: Skill, actor: str, now: datetime, plan_id: str, move: Move
) -> Plan:
    """The plan that applies one finding's fix: one move, at the placement it fixes."""
    return Plan(
        id=plan_id,
        skill=skill.name,
        operation=Operation.FIX,
        alias=finding.alias,
        moves=(move,),
        requested_by=actor,
        reason=plain(as_words(finding.detail)),
        created_at=now,
        fix=finding.fix,
    )
