"""A stage's endpoints compared place by place: the default endpoint, then each region,
each with what *that place* must call (a region with its own function: that function's
alias; any other region: the default's). Doctor's live-stage drift check, and the words
of the publication guard and of the check after publishing, are built here. Pure::

    >>> na = Endpoint("PROD1", "arn:na:PROD1")
    >>> target = StageTarget(na, (("EU", Endpoint("PROD1", "arn:eu:PROD1")),))
    >>> [(m.place, m.calls) for m in misplaced(SkillEndpoints(na.uri, {"EU": na.uri}), target)]
    [('EU', 'arn:na:PROD1')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.alexa import SkillEndpoints
from bot.domain.endpoints import Endpoint, StageTarget, as_target, name_endpoint, wrong_endpoints
from bot.domain.model import Roles, Skill
from bot.domain.rotation import Finding
from bot.domain.text import escape
from bot.domain.words import Run, Words, words

#: where a person changes what a stage calls (the live stage: through certification)
CONSOLE = "the Alexa developer console (Build → Endpoint)"


@dataclass(frozen=True)
class Misplaced:
    """One place of a stage (``"default"`` or an Alexa region) that does not call what it
    must: ``calls`` (None: nothing set) instead of ``expected``, named ``expected_name``
    (``PROD2``, or ``PROD2 EU`` for a region's own function)."""

    place: str
    calls: str | None
    expected: Endpoint
    expected_name: str

    @property
    def where(self) -> str:
        return "the default endpoint" if self.place == "default" else f"region {self.place}"


def misplaced(stage: SkillEndpoints, target: Endpoint | StageTarget) -> list[Misplaced]:
    """Every place of ``stage`` that does not call its own place's endpoint of ``target``;
    a missing default counts (Alexa needs one).

    >>> t = StageTarget(Endpoint("P2", "arn:na:P2"), (("EU", Endpoint("P2", "arn:eu:P2")),))
    >>> [m.expected_name for m in misplaced(SkillEndpoints(None, {"EU": "arn:na:P2"}), t)]
    ['P2', 'P2 EU']
    """
    stage_target = as_target(target)
    own = dict(stage_target.regional)
    return [
        Misplaced(
            place,
            uri,
            stage_target.for_place(place),
            f"{stage_target.alias} {place}" if place in own else stage_target.alias,
        )
        for place, uri in wrong_endpoints(stage, stage_target)
    ]


def describe_misplaced(
    wrong: Sequence[Misplaced], names: Mapping[str, Endpoint], live_alias: str
) -> str:
    """Each wrong place, what it calls (named by ``names``: alias, or alias and region)
    and what it must call instead.

    >>> e = {"PROD1": Endpoint("PROD1", "arn:p1"), "PROD1 EU": Endpoint("PROD1", "arn:eu1")}
    >>> describe_misplaced([Misplaced("EU", "arn:p1", e["PROD1 EU"], "PROD1 EU")], e, "PROD1")
    'region EU calls `arn:p1` (PROD1, the live alias), not `arn:eu1` (PROD1 EU)'
    """
    return "; ".join(
        _place_line(m, name_endpoint(m.calls, names, live_alias) if m.calls else None)
        for m in wrong
    )


def _place_line(wrong: Misplaced, calls_named: str | None) -> str:
    should = f"`{escape(wrong.expected.uri)}` ({wrong.expected_name})"
    if calls_named is None:
        return f"{wrong.where} is not set (it must call {should})"
    return f"{wrong.where} calls {calls_named}, not {should}"


def addresses_to_enter(stage: SkillEndpoints, target: Endpoint | StageTarget) -> str:
    """What a person enters in the console, for every place the stage has: the default's
    address alone, or each place's.

    >>> t = StageTarget(Endpoint("P2", "arn:na:P2"), (("EU", Endpoint("P2", "arn:eu:P2")),))
    >>> addresses_to_enter(SkillEndpoints("x", {"EU": "y", "FE": "z"}), t)
    'the default `arn:na:P2`, EU `arn:eu:P2`, FE `arn:na:P2`'
    >>> addresses_to_enter(SkillEndpoints("x"), t)
    '`arn:na:P2`'
    """
    stage_target = as_target(target)
    if not stage.regional:
        return f"`{escape(stage_target.uri)}`"
    places = [f"the default `{escape(stage_target.uri)}`"]
    places += [
        f"{region} `{escape(stage_target.for_place(region).uri)}`"
        for region in sorted(stage.regional)
    ]
    return ", ".join(places)


def endpoint_names(
    skill: Skill, targets: Mapping[str, StageTarget], live_alias: str
) -> dict[str, str]:
    """Every endpoint of every alias, named for people: ``PROD2 EU (the candidate)``; the
    default function's endpoint carries its region's name only when there are regions.

    >>> from bot.domain.model import Placement
    >>> s = Skill("t", (Placement("NA", "f"),), "i", ("PROD1", "PROD2"), "PROD1", "C")
    >>> endpoint_names(s, {"PROD2": StageTarget(Endpoint("PROD2", "arn:p2"))}, "PROD1")
    {'arn:p2': 'PROD2 (the candidate)'}
    """
    names: dict[str, str] = {}
    for alias, target in targets.items():
        role = "live" if alias == live_alias else "the candidate"
        default = f"{alias} {skill.placements[0].region}" if target.regional else alias
        names.setdefault(target.default.uri, f"{default} ({role})")
        for region, endpoint in target.regional:
            names.setdefault(endpoint.uri, f"{alias} {region} ({role})")
    return names


def live_stage_drift(
    skill: Skill,
    roles: Roles,
    live: SkillEndpoints | None,
    targets: Mapping[str, StageTarget],
) -> Finding:
    """Does every place of the published (live) Alexa skill call *its own* region's
    endpoint of the alias skillbot believes is live? ``targets``: each alias's.

    >>> from bot.domain.model import Placement
    >>> s = Skill("t", (Placement("NA", "f"),), "i", ("PROD1", "PROD2"), "PROD1", "C")
    >>> targets = {a: StageTarget(Endpoint(a, f"arn:{a}")) for a in s.aliases}
    >>> live_stage_drift(s, Roles("PROD1", "PROD2"), SkillEndpoints("arn:PROD1"), targets).ok
    True
    """
    check = "live Alexa endpoint"
    if live is None:
        return Finding(check, True, "the skill has no live stage yet (never published)")
    expected = targets[roles.live_alias]
    wrong = misplaced(live, expected)
    if not wrong:
        absent = [(r, e) for r, e in expected.regional if r not in live.regional]
        if absent:
            return _without_own_endpoint(skill, absent, expected)
        every = ", each region its own function's" if live.regional else ""
        return Finding(check, True, f"the live skill calls {roles.live_alias}{every}")
    names = endpoint_names(skill, targets, roles.live_alias)
    parts = [
        _place_line(m, (names.get(m.calls) or f"`{escape(m.calls)}`") if m.calls else None)
        for m in wrong
    ]
    enter = addresses_to_enter(live, expected)
    if not misplaced(live, targets[roles.candidate_alias]):
        # the whole stage calls the candidate: most likely the certified model went live
        # without a promotion; a stage only partly on it is an edit to undo, not to promote
        advice: str | Words = words(
            "If the certified model is live, promote it (",
            Run("promote", skill.name),
            f"); otherwise enter {enter} in {CONSOLE}, certify and publish that.",
        )
    else:
        advice = (
            f"Each place must call its own region's {roles.live_alias}: enter {enter} in "
            f"{CONSOLE}, certify and publish that; doctor reports this until then."
        )
    found = f"in the live skill {'; '.join(parts)}, but {roles.live_alias} is recorded as live. "
    return Finding(
        check, False, found + advice if isinstance(advice, str) else words(found, advice)
    )


def _without_own_endpoint(
    skill: Skill, absent: Sequence[tuple[str, Endpoint]], expected: StageTarget
) -> Finding:
    """Regions with their own function that the live skill gives no endpoint: Alexa sends
    those marketplaces' customers to the default endpoint, far from their function."""
    regions = ", ".join(region for region, _ in absent)
    enter = ", ".join(f"{region} `{escape(e.uri)}`" for region, e in absent)
    return Finding(
        "live Alexa endpoint",
        False,
        words(
            f"the live skill has no endpoint for {regions}, which the skills file serves from "
            f"{'its own function' if len(absent) == 1 else 'their own functions'}: Alexa sends "
            f"{regions} customers to the default endpoint `{escape(expected.uri)}`. The next "
            "certification submitted with *Confirm and submit to Alexa* adds "
            f"{'it' if len(absent) == 1 else 'them'}; or enter {enter} in {CONSOLE}, "
            "certify and publish. ",
            Run("doctor", skill.name),
            " reports this until then.",
        ),
    )
