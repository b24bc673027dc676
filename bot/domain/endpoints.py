"""What Alexa must call for each alias of a skill, and the rules over what it calls.

One rule decides the endpoint of alias A of skill S (:func:`alias_endpoint`): the HTTPS
URL the skills file declares for A (the API Gateway variant), else A's alias-qualified
Lambda ARN. Plans, messages, the status view, re-pointing the development stage, the
publication guard and the drift check all ask it. The rest reads and edits stage
manifests (plain JSON values) and API Gateway routes, without any I/O::

    >>> from bot.domain.model import Placement, Skill
    >>> s = Skill("t", (Placement("NA", "f"),), "amzn1.ask.skill.1", ("PROD1", "PROD2"),
    ...           "PROD1", "C1")
    >>> alias_endpoint(s, "PROD2", "arn:aws:lambda:eu-west-1:1:function:f:PROD2").uri
    'arn:aws:lambda:eu-west-1:1:function:f:PROD2'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.domain.alexa import SkillEndpoints
from bot.domain.model import Skill
from bot.domain.text import escape

#: SMAPI's values of ``endpoint.sslCertificateType`` for an HTTPS endpoint
SSL_CERTIFICATE_TYPES: tuple[str, ...] = ("Wildcard", "Trusted", "SelfSigned")

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

    def described(self) -> str:
        """```arn…:P2`` (P2)`` with every region's own: ``…; EU `arn…`, FE `arn…```."""
        text = f"`{self.default.uri}` ({self.alias})"
        if self.regional:
            text += " and in " + ", ".join(f"{r} `{e.uri}`" for r, e in self.regional)
        return text


def as_target(target: Endpoint | StageTarget) -> StageTarget:
    return target if isinstance(target, StageTarget) else StageTarget(target)


def alias_endpoint(skill: Skill, alias: str, alias_arn: str | None) -> Endpoint:
    """The endpoint Alexa must call for ``alias`` of ``skill``.

    ``alias_arn`` (the alias-qualified function ARN) is only read when the skill declares
    no HTTPS endpoints.

    >>> from bot.domain.model import Placement, Skill
    >>> urls = (("PROD1", "https://a/p1"), ("PROD2", "https://a/p2"))
    >>> s = Skill("t", (Placement("NA", "f", urls),), "i", ("PROD1", "PROD2"), "PROD1", "C",
    ...           ssl_certificate_type="Wildcard")
    >>> alias_endpoint(s, "PROD1", None)
    Endpoint(alias='PROD1', uri='https://a/p1', ssl_certificate_type='Wildcard')
    """
    if alias not in skill.aliases:
        raise ValueError(f"{alias!r} is not an alias of {skill.name}")
    url = dict(skill.placements[0].endpoints).get(alias)
    if url:
        return Endpoint(alias, url, skill.ssl_certificate_type or "Wildcard")
    if not alias_arn:
        raise ValueError(f"the ARN of {alias} is needed: {skill.name} declares no endpoints")
    return Endpoint(alias, alias_arn)


def name_endpoint(uri: str, by_alias: Mapping[str, Endpoint], live_alias: str) -> str:
    """``uri`` with the alias (or ``"PROD1 EU"``: alias and region, as keyed) and its role
    it belongs to, for messages.

    >>> e = {"PROD1": Endpoint("PROD1", "arn:p1"), "PROD2": Endpoint("PROD2", "arn:p2")}
    >>> name_endpoint("arn:p1", e, "PROD1"), name_endpoint("arn:x", e, "PROD1")
    ('`arn:p1` (PROD1, the live alias)', '`arn:x` (neither alias)')
    """
    for name, endpoint in by_alias.items():  # keyed by alias, or by alias and region
        if endpoint.uri == uri:
            role = "the live alias" if endpoint.alias == live_alias else "the candidate alias"
            return f"`{escape(uri)}` ({name}, {role})"
    return f"`{escape(uri)}` (neither alias)"


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


def repointed(manifest: Mapping[str, Any], target: Endpoint | StageTarget) -> dict[str, Any] | None:
    """A copy of ``manifest`` whose default and regional endpoints all call ``target`` (a
    region with its own function: that function's, its endpoint added when the manifest
    has none); None when they already do. Nothing else in the manifest changes.

    An ARN endpoint carries no ``sslCertificateType``; an HTTPS one carries the skill's.

    >>> m = {"apis": {"custom": {"endpoint": {"uri": "arn:p1"},
    ...      "regions": {"EU": {"endpoint": {"uri": "arn:p1"}}}}}, "privacyAndCompliance": {}}
    >>> new = repointed(m, Endpoint("PROD2", "arn:p2"))
    >>> manifest_endpoints(new).all_uris(), repointed(new, Endpoint("PROD2", "arn:p2"))
    (['arn:p2'], None)
    """
    if custom_api(manifest) is None:
        raise ValueError("the manifest has no custom API (apis.custom)")
    edited = copy.deepcopy(dict(manifest))
    custom = custom_api(edited)
    assert custom is not None
    stage_target = as_target(target)
    objects = _endpoint_objects(custom)
    present = {place for place, _ in objects}
    missing = [region for region, _ in stage_target.regional if region not in present]
    if not missing and all(_calls(o, stage_target.for_place(place)) for place, o in objects):
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
        own = stage_target.for_place(place)
        endpoint_object["uri"] = own.uri
        if own.https:
            endpoint_object["sslCertificateType"] = own.ssl_certificate_type
        else:
            endpoint_object.pop("sslCertificateType", None)
    return edited


def wrong_endpoints(
    endpoints: SkillEndpoints, target: Endpoint | StageTarget
) -> list[tuple[str, str | None]]:
    """Where a stage does not call ``target`` (each region its own): ``(place, uri)``
    pairs, ``place`` being ``"default"`` or a region; a missing default counts as wrong.

    >>> wrong_endpoints(SkillEndpoints("arn:p2", {"EU": "arn:p1"}), Endpoint("PROD2", "arn:p2"))
    [('EU', 'arn:p1')]
    """
    places: list[tuple[str, str | None]] = [("default", endpoints.default)]
    places += sorted(endpoints.regional.items())
    stage_target = as_target(target)
    return [(place, uri) for place, uri in places if uri != stage_target.for_place(place).uri]


def describe_wrong(
    wrong: list[tuple[str, str | None]], by_alias: Mapping[str, Endpoint], live_alias: str
) -> str:
    """``[("default", "arn:p1")]`` → "the default endpoint calls `arn:p1` (PROD1, …)"."""
    parts = []
    for place, uri in wrong:
        where = "the default endpoint" if place == "default" else f"region {place}"
        parts.append(
            f"{where} calls {name_endpoint(uri, by_alias, live_alias)}"
            if uri
            else f"{where} is not set"
        )
    return "; ".join(parts)


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
