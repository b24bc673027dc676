"""What Alexa must call for each alias of a skill, what a stage calls instead, and the
rules over both.

One rule decides the endpoint of alias A at each placement of skill S
(:func:`placement_endpoint`): the HTTPS URL the skills file declares for A there (the API
Gateway variant), else the placement's alias-qualified Lambda ARN; the first placement's
is the default endpoint's (:func:`stage_target`). Plans, messages, the status view,
re-pointing the development stage, the publication guard and the drift check all ask it.
A stage is compared place by place, the default endpoint then each region, each with what
*that place* must call (a region with its own function: that function's alias; any other
region: the default's): doctor's live-stage drift check, and the words of the publication
guard and of the check after publishing, are built here. The rest reads and edits stage
manifests (plain JSON values) and API Gateway routes, without any I/O::

    >>> from bot.domain.model import Placement, Skill
    >>> s = Skill("t", (Placement("NA", "f"),), "amzn1.ask.skill.1", ("PROD1", "PROD2"),
    ...           "PROD1", "C1")
    >>> stage_target(s, "PROD2", lambda function, alias: f"arn:{function}:{alias}").uri
    'arn:f:PROD2'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.domain.alexa import SkillEndpoints
from bot.domain.model import Placement, Roles, Skill
from bot.domain.rotation import Finding
from bot.domain.words import Button, Code, Link, Run, Words, words

#: where a person changes what a stage calls (the live stage: through certification)
#: where a person sets a skill's endpoints by hand
CONSOLE_URL = "https://developer.amazon.com/alexa/console/ask"
CONSOLE: Words = (Link(CONSOLE_URL, "the Alexa developer console"), " under Build → Endpoint")

_EXECUTE_API_HOST = re.compile(
    r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$"
)
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_INVOCATION_PATH = re.compile(r":lambda:path/[0-9-]+/functions/(?P<arn>.+?)/invocations$")


@dataclass(frozen=True)
class Endpoint:
    """What Alexa calls for one alias: a Lambda ARN, or an HTTPS URL with its certificate."""

    alias: str
    uri: str
    ssl_certificate_type: str | None = None

    @property
    def https(self) -> bool:
        return self.uri.startswith("https://")


@dataclass(frozen=True)
class StageTarget:
    """What every endpoint of a stage must call for one alias: the default endpoint calls
    ``default``; a region with its own function calls that function's alias (``regional``);
    any other region calls ``default`` too.

    >>> t = StageTarget(Endpoint("P2", "arn:na:P2"), (("EU", Endpoint("P2", "arn:eu:P2")),))
    >>> t.for_place("EU").uri, t.for_place("FE").uri
    ('arn:eu:P2', 'arn:na:P2')
    """

    default: Endpoint
    regional: tuple[tuple[str, Endpoint], ...] = ()

    @property
    def alias(self) -> str:
        return self.default.alias

    @property
    def uri(self) -> str:
        return self.default.uri

    def for_place(self, place: str) -> Endpoint:
        return dict(self.regional).get(place, self.default)

    def described(self) -> Words:
        """The default endpoint and its alias, with every region's own.

        >>> from bot.domain.words import plain
        >>> t = StageTarget(Endpoint("P2", "arn:na:P2"), (("EU", Endpoint("P2", "arn:eu:P2")),))
        >>> plain(t.described())
        '`arn:na:P2` (P2) and in EU `arn:eu:P2`'
        """
        said = words(Code(self.default.uri), f" ({self.alias})")
        for index, (region, endpoint) in enumerate(self.regional):
            said = words(said, " and in " if index == 0 else ", ", f"{region} ", Code(endpoint.uri))
        return said


#: ``alias_arn(function, alias)``: the alias-qualified ARN of a function (read from AWS)
AliasArn = Callable[[str, str], str]


def placement_endpoint(
    skill: Skill, placement: Placement, alias: str, alias_arn: AliasArn
) -> Endpoint:
    """The endpoint Alexa must call for ``alias`` of ``skill`` at ``placement``: its HTTPS
    URL, else (only then is ``alias_arn`` asked) its function's alias-qualified ARN.

    >>> urls = (("PROD1", "https://a/p1"), ("PROD2", "https://a/p2"))
    >>> s = Skill("t", (Placement("NA", "f", urls),), "i", ("PROD1", "PROD2"), "PROD1", "C",
    ...           ssl_certificate_type="Wildcard")
    >>> placement_endpoint(s, s.placements[0], "PROD1", lambda function, alias: "unasked")
    Endpoint(alias='PROD1', uri='https://a/p1', ssl_certificate_type='Wildcard')
    """
    if alias not in skill.aliases:
        raise ValueError(f"{alias!r} is not an alias of {skill.name}")
    url = dict(placement.endpoints).get(alias)
    if url:
        return Endpoint(alias, url, skill.ssl_certificate_type or "Wildcard")
    return Endpoint(alias, alias_arn(placement.function, alias))


def stage_target(skill: Skill, alias: str, alias_arn: AliasArn) -> StageTarget:
    """What a stage must call for ``alias``: the first placement's endpoint as the default,
    and each other placement's as its region's."""
    first, *others = skill.placements
    return StageTarget(
        placement_endpoint(skill, first, alias, alias_arn),
        tuple((p.region, placement_endpoint(skill, p, alias, alias_arn)) for p in others),
    )


def name_endpoint(uri: str, by_alias: Mapping[str, Endpoint], live_alias: str) -> Words:
    """``uri`` with the alias (or ``"PROD1 EU"``: alias and region, as keyed) and its role
    it belongs to, for messages.

    >>> from bot.domain.words import plain
    >>> e = {"PROD1": Endpoint("PROD1", "arn:p1"), "PROD2": Endpoint("PROD2", "arn:p2")}
    >>> plain(name_endpoint("arn:p1", e, "PROD1")), plain(name_endpoint("arn:x", e, "PROD1"))
    ('`arn:p1` (PROD1, the live alias)', '`arn:x` (neither alias)')
    """
    for name, endpoint in by_alias.items():  # keyed by alias, or by alias and region
        if endpoint.uri == uri:
            role = "the live alias" if endpoint.alias == live_alias else "the candidate alias"
            return words(Code(uri), f" ({name}, {role})")
    return words(Code(uri), " (neither alias)")


# -- stage manifests ---------------------------------------------------------------------


def custom_api(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """``manifest.apis.custom`` of a stage manifest (the ``manifest`` object), or None."""
    apis = manifest.get("apis")
    custom = apis.get("custom") if isinstance(apis, dict) else None
    return custom if isinstance(custom, dict) else None


def manifest_endpoints(manifest: Mapping[str, Any]) -> SkillEndpoints:
    """The custom API's endpoints in a stage manifest: the default and one per region."""
    custom = custom_api(manifest) or {}
    regional: dict[str, str] = {}
    regions = custom.get("regions")
    for region, settings in (regions if isinstance(regions, dict) else {}).items():
        uri = _uri(settings)
        if uri:
            regional[str(region)] = uri
    return SkillEndpoints(default=_uri(custom), regional=regional)


def _uri(holder: Any) -> str | None:
    endpoint = holder.get("endpoint") if isinstance(holder, dict) else None
    uri = endpoint.get("uri") if isinstance(endpoint, dict) else None
    return uri if isinstance(uri, str) and uri else None


def _endpoint_objects(custom: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The default endpoint object (created when missing) and every region's, by place."""
    objects = [("default", custom.setdefault("endpoint", {}))]
    regions = custom.get("regions")
    for region, settings in (regions if isinstance(regions, dict) else {}).items():
        if isinstance(settings, dict):
            objects.append((str(region), settings.setdefault("endpoint", {})))
    return [(place, o) for place, o in objects if isinstance(o, dict)]


def _calls(endpoint_object: Mapping[str, Any], target: Endpoint) -> bool:
    if endpoint_object.get("uri") != target.uri:
        return False
    certificate = endpoint_object.get("sslCertificateType")
    return certificate == target.ssl_certificate_type if target.https else certificate is None


def repointed(manifest: Mapping[str, Any], target: StageTarget) -> dict[str, Any] | None:
    """A copy of ``manifest`` whose default and regional endpoints all call ``target`` (a
    region with its own function: that function's, its endpoint added when the manifest
    has none); None when they already do. Nothing else in the manifest changes.

    An ARN endpoint carries no ``sslCertificateType``; an HTTPS one carries the skill's.

    >>> m = {"apis": {"custom": {"endpoint": {"uri": "arn:p1"},
    ...      "regions": {"EU": {"endpoint": {"uri": "arn:p1"}}}}}, "privacyAndCompliance": {}}
    >>> new = repointed(m, StageTarget(Endpoint("PROD2", "arn:p2")))
    >>> manifest_endpoints(new), repointed(new, StageTarget(Endpoint("PROD2", "arn:p2")))
    (SkillEndpoints(default='arn:p2', regional={'EU': 'arn:p2'}), None)
    """
    if custom_api(manifest) is None:
        raise ValueError("the manifest has no custom API (apis.custom)")
    edited = copy.deepcopy(dict(manifest))
    custom = custom_api(edited)
    assert custom is not None
    objects = _endpoint_objects(custom)
    present = {place for place, _ in objects}
    missing = [region for region, _ in target.regional if region not in present]
    if not missing and all(_calls(o, target.for_place(place)) for place, o in objects):
        return None
    # a region with its own function but no endpoint of its own would send that
    # marketplace's customers to the default endpoint: it gets its own
    regions = custom.get("regions")
    if missing and not isinstance(regions, dict):
        regions = custom["regions"] = {}
    for region in missing:
        assert isinstance(regions, dict)
        settings = regions.setdefault(region, {})
        objects.append((region, settings.setdefault("endpoint", {})))
    for place, endpoint_object in objects:
        own = target.for_place(place)
        endpoint_object["uri"] = own.uri
        if own.https:
            endpoint_object["sslCertificateType"] = own.ssl_certificate_type
        else:
            endpoint_object.pop("sslCertificateType", None)
    return edited


# -- a stage compared with what it must call ------------------------------------------


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


def misplaced(stage: SkillEndpoints, target: StageTarget) -> list[Misplaced]:
    """Every place of ``stage`` that does not call its own place's endpoint of ``target``;
    a missing default counts (Alexa needs one).

    >>> t = StageTarget(Endpoint("P2", "arn:na:P2"), (("EU", Endpoint("P2", "arn:eu:P2")),))
    >>> [m.expected_name for m in misplaced(SkillEndpoints(None, {"EU": "arn:na:P2"}), t)]
    ['P2', 'P2 EU']
    """
    own = dict(target.regional)
    places = [("default", stage.default), *sorted(stage.regional.items())]
    return [
        Misplaced(place, uri, expected, f"{target.alias} {place}" if place in own else target.alias)
        for place, uri in places
        if uri != (expected := target.for_place(place)).uri
    ]


def describe_misplaced(
    wrong: Sequence[Misplaced], name: Callable[[str], str | Words], *, before: bool = False
) -> Words:
    """Each wrong place, what it calls (``name(uri)``) and what it must call instead; with
    ``before``, what it called before the bot changed it (past tense, nothing instead).

    >>> from bot.domain.words import plain
    >>> e = Endpoint("PROD1", "arn:eu1")
    >>> plain(describe_misplaced([Misplaced("EU", "arn:p1", e, "PROD1 EU")], lambda uri: uri))
    'region EU calls arn:p1, not `arn:eu1` (PROD1 EU)'
    >>> plain(describe_misplaced([Misplaced("default", None, e, "PROD1")], str, before=True))
    'the default endpoint was not set'
    """
    said: Words = ()
    for m in wrong:
        should = words(Code(m.expected.uri), f" ({m.expected_name})")
        if m.calls is None:
            part = (
                words(f"{m.where} was not set")
                if before
                else words(f"{m.where} is not set (it must call ", *should, ")")
            )
        else:
            part = (
                words(f"{m.where} called ", name(m.calls))
                if before
                else words(f"{m.where} calls ", name(m.calls), ", not ", *should)
            )
        said = words(said, "; " if said else None, part)
    return said


def addresses_to_enter(stage: SkillEndpoints, target: StageTarget) -> Words:
    """What a person enters in the console, for every place the stage has: the default's
    address alone, or each place's.

    >>> from bot.domain.words import plain
    >>> t = StageTarget(Endpoint("P2", "arn:na:P2"), (("EU", Endpoint("P2", "arn:eu:P2")),))
    >>> plain(addresses_to_enter(SkillEndpoints("x", {"EU": "y", "FE": "z"}), t))
    'the default `arn:na:P2`, EU `arn:eu:P2`, FE `arn:na:P2`'
    >>> plain(addresses_to_enter(SkillEndpoints("x"), t))
    '`arn:na:P2`'
    """
    if not stage.regional:
        return (Code(target.uri),)
    said = words("the default ", Code(target.uri))
    for region in sorted(stage.regional):
        said = words(said, f", {region} ", Code(target.for_place(region).uri))
    return said


def endpoint_names(
    skill: Skill, targets: Mapping[str, StageTarget], live_alias: str
) -> dict[str, str]:
    """Every endpoint of every alias, named for people: ``PROD2 EU (the candidate)``; the
    default function's endpoint carries its region's name only when there are regions.

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
    what = describe_misplaced(wrong, lambda uri: names.get(uri) or (Code(uri),))
    enter = addresses_to_enter(live, expected)
    if not misplaced(live, targets[roles.candidate_alias]):
        # the whole stage calls the candidate: most likely the certified model went live
        # without a promotion; a stage only partly on it is an edit to undo, not to promote
        advice = words(
            "If the certified model is live, promote it (",
            Run("promote", skill.name),
            "); otherwise enter ",
            enter,
            " in ",
            CONSOLE,
            ", certify and publish that.",
        )
    else:
        advice = words(
            f"Each place must call its own region's {roles.live_alias}: enter ",
            enter,
            " in ",
            CONSOLE,
            ", certify and publish that; doctor reports this until then.",
        )
    found = words("in the live skill ", what, f", but {roles.live_alias} is recorded as live. ")
    return Finding(check, False, words(found, advice))


def _without_own_endpoint(
    skill: Skill, absent: Sequence[tuple[str, Endpoint]], expected: StageTarget
) -> Finding:
    """Regions with their own function that the live skill gives no endpoint: Alexa sends
    those marketplaces' customers to the default endpoint, far from their function."""
    regions = ", ".join(region for region, _ in absent)
    enter: Words = ()
    for region, endpoint in absent:
        enter = words(enter, ", " if enter else None, f"{region} ", Code(endpoint.uri))
    return Finding(
        "live Alexa endpoint",
        False,
        words(
            f"the live skill has no endpoint for {regions}, which the skills file serves from "
            f"{'its own function' if len(absent) == 1 else 'their own functions'}: Alexa sends "
            f"{regions} customers to the default endpoint ",
            Code(expected.uri),
            ". The next certification submitted with ",
            Button("Confirm and submit to Alexa"),
            f" adds {'it' if len(absent) == 1 else 'them'}; or enter ",
            enter,
            " in ",
            CONSOLE,
            ", certify and publish. ",
            Run("doctor", skill.name),
            " reports this until then.",
        ),
    )


# -- API Gateway -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecuteApiUrl:
    """An ``https://API.execute-api.REGION.amazonaws.com/…`` URL, taken apart."""

    api_id: str
    region: str
    segments: tuple[str, ...]


def parse_execute_api_url(url: str) -> ExecuteApiUrl | None:
    """The API id, region and path segments of an execute-api URL (None for other hosts).

    >>> parse_execute_api_url("https://abc123.execute-api.eu-west-1.amazonaws.com/prod1")
    ExecuteApiUrl(api_id='abc123', region='eu-west-1', segments=('prod1',))
    """
    parts = urlsplit(url)
    match = _EXECUTE_API_HOST.match(parts.hostname or "")
    if parts.scheme != "https" or match is None:
        return None
    segments = tuple(s for s in parts.path.split("/") if s)
    return ExecuteApiUrl(match["api"], match["region"], segments)


@dataclass(frozen=True)
class GatewayRoute:
    """What an API Gateway endpoint is wired to: the integration of its route or resource."""

    kind: str  # "REST API" or "HTTP API"
    api_id: str
    stage: str
    route: str  # the resource path (REST) or the route key (HTTP)
    integration_uri: str | None
    stage_variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayPermission:
    """A resource-policy statement letting API Gateway invoke an alias."""

    statement_id: str
    alias: str
    source_arn: str | None  # None: any API (no SourceArn condition)


def invoked_function(route: GatewayRoute) -> str | None:
    """The Lambda ARN the route's integration invokes, stage variables resolved.

    >>> invoked_function(GatewayRoute("REST API", "a", "prod1", "/",
    ...     "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
    ...     "arn:aws:lambda:eu-west-1:1:function:f:${stageVariables.alias}/invocations",
    ...     {"alias": "PROD1"}))
    'arn:aws:lambda:eu-west-1:1:function:f:PROD1'
    """
    uri = route.integration_uri
    if not uri:
        return None
    match = _INVOCATION_PATH.search(uri)
    arn = match["arn"] if match else uri
    if not arn.startswith("arn:aws") or ":lambda:" not in arn:
        return None
    return _STAGE_VARIABLE.sub(lambda m: route.stage_variables.get(m[1], m[0]), arn)


def source_arn(url: ExecuteApiUrl, function_arn: str) -> str:
    """The ``SourceArn`` of a permission for every route of the URL's API.

    >>> u = ExecuteApiUrl("abc", "eu-west-1", ("prod1",))
    >>> source_arn(u, "arn:aws:lambda:eu-west-1:123456789012:function:f:PROD1")
    'arn:aws:execute-api:eu-west-1:123456789012:abc/*'
    """
    partition, account = function_arn.split(":")[1], function_arn.split(":")[4]
    return f"arn:{partition}:execute-api:{url.region}:{account}:{url.api_id}/*"


def permits_api(permission: GatewayPermission, url: ExecuteApiUrl) -> bool:
    """Does the statement let the URL's API invoke (no SourceArn: any API does)?"""
    if permission.source_arn is None:
        return True
    parts = permission.source_arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "execute-api" or parts[3] not in (url.region, "*"):
        return False
    api = parts[5].split("/", 1)[0]
    return api in (url.api_id, "*")
