"""The fake SMAPI's skill stages: a manifest per stage (development, certification, live)
with an ``ETag``, updates guarded by ``If-Match`` (412 when stale), the manifest build
status with a settable outcome, and the copies SMAPI makes (submit: development →
certification; publish: certification → live)::

    fake.set_stage_endpoint(SKILL_ID, "development", "arn:…:PROD1")
    fake.set_manifest_build(SKILL_ID, "SUCCEEDED", in_progress_polls=2)
    fake.manifest(SKILL_ID, "certification")["apis"]["custom"]["endpoint"]["uri"]
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.devkit.fake_smapi.state import FakeSkill, bad_request

#: the pseudo-header carrying the query string to the routes that read it
QUERY = ":query"

Answer = tuple[int, dict[str, str], Any]


def default_manifest() -> dict[str, Any]:
    """A custom skill's development manifest before anyone set its endpoint."""
    return {
        "manifestVersion": "1.0",
        "publishingInformation": {
            "locales": {"en-US": {"name": "Fake skill", "summary": "A skill for tests."}},
            "isAvailableWorldwide": True,
            "distributionCountries": [],
        },
        "privacyAndCompliance": {"allowsPurchases": False, "containsAds": False},
        "apis": {"custom": {"interfaces": []}},
    }


@dataclass
class BuildOutcome:
    """How the next manifest updates build: IN_PROGRESS for a number of polls, then
    ``outcome``."""

    outcome: str = "SUCCEEDED"
    in_progress_polls: int = 0
    errors: list[str] = field(default_factory=list)
    # the latest update request: its status and the polls it still answers IN_PROGRESS
    status: str | None = None
    polls_left: int = 0


@dataclass
class StageStore:
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)
    build: BuildOutcome = field(default_factory=BuildOutcome)
    # stage -> how many more reads are followed by someone else's edit
    edits_after_read: dict[str, int] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)  # accepted PUT bodies


def _etag() -> str:
    return f'"{secrets.token_hex(8)}"'


class ManifestStages:
    """Mixed into :class:`~bot.devkit.fake_smapi.server.FakeSmapi` (its lock, its skills)."""

    _lock: threading.RLock
    _stage_stores: dict[str, StageStore]

    def add_skill(self, skill_id: str) -> FakeSkill:
        raise NotImplementedError

    def _stages(self, skill_id: str) -> StageStore:
        with self._lock:
            store = self._stage_stores.get(skill_id)
            if store is None:
                store = self._stage_stores[skill_id] = StageStore()
                self._put(store, "development", default_manifest())
            return store

    @staticmethod
    def _put(store: StageStore, stage: str, manifest: dict[str, Any]) -> None:
        store.manifests[stage] = manifest
        store.etags[stage] = _etag()

    # -- what tests set and read --------------------------------------------------------

    def manifest(self, skill_id: str, stage: str) -> dict[str, Any] | None:
        """A copy of the stage's manifest (None when the skill has no such stage)."""
        with self._lock:
            found = self._stages(skill_id).manifests.get(stage)
            return copy.deepcopy(found) if found is not None else None

    def stage_uris(self, skill_id: str, stage: str) -> dict[str, str | None]:
        """``{"default": uri, REGION: uri, …}`` of a stage ({} when there is no stage)."""
        custom = ((self.manifest(skill_id, stage) or {}).get("apis") or {}).get("custom") or {}
        uris: dict[str, str | None] = {}
        if custom:
            uris["default"] = (custom.get("endpoint") or {}).get("uri")
        for region, settings in (custom.get("regions") or {}).items():
            uris[region] = (settings.get("endpoint") or {}).get("uri")
        return uris

    def etag(self, skill_id: str, stage: str) -> str | None:
        """The ETag the stage's manifest is served with right now."""
        with self._lock:
            return self._stages(skill_id).etags.get(stage)

    def manifest_updates(self, skill_id: str) -> list[dict[str, Any]]:
        """The bodies of the accepted manifest updates, oldest first."""
        with self._lock:
            return copy.deepcopy(self._stages(skill_id).updates)

    def set_stage_endpoint(
        self,
        skill_id: str,
        stage: str,
        uri: str | None,
        regional: Mapping[str, str] | None = None,
        *,
        ssl_certificate_type: str | None = None,
    ) -> None:
        """Set a stage's custom endpoints (as a person would in the developer console)."""
        with self._lock:
            self.add_skill(skill_id)
            store = self._stages(skill_id)
            manifest = copy.deepcopy(store.manifests.get(stage) or default_manifest())
            custom = manifest["apis"].setdefault("custom", {})
            custom.pop("endpoint", None)
            if uri:
                custom["endpoint"] = {"uri": uri}
                if ssl_certificate_type:
                    custom["endpoint"]["sslCertificateType"] = ssl_certificate_type
            if regional:
                custom["regions"] = {r: {"endpoint": {"uri": u}} for r, u in regional.items()}
            else:
                custom.pop("regions", None)
            self._put(store, stage, manifest)

    def set_manifest_build(
        self,
        skill_id: str,
        outcome: str = "SUCCEEDED",
        *,
        in_progress_polls: int = 0,
        errors: list[str] | None = None,
    ) -> None:
        """How the next manifest updates build (SUCCEEDED, FAILED, or IN_PROGRESS forever)."""
        with self._lock:
            build = self._stages(skill_id).build
            build.outcome, build.in_progress_polls = outcome, in_progress_polls
            build.errors = list(errors or [])

    def edit_after_next_read(self, skill_id: str, stage: str, times: int = 1) -> None:
        """The next ``times`` reads of the stage are each followed by someone else's edit
        (a new ETag), so an update with the ETag just read gets 412."""
        with self._lock:
            self._stages(skill_id).edits_after_read[stage] = times

    # -- routes (lock held) ----------------------------------------------------------------

    def _get_manifest(
        self, skill: FakeSkill, headers: dict[str, str], body: Any, *, stage: str
    ) -> Answer:
        store = self._stages(skill.skill_id)
        manifest = store.manifests.get(stage)
        if manifest is None:
            return 404, {}, {"message": f"The skill has no {stage} stage."}
        etag = store.etags[stage]
        if store.edits_after_read.get(stage):
            store.edits_after_read[stage] -= 1
            store.etags[stage] = _etag()
        return 200, {"ETag": etag}, {"manifest": copy.deepcopy(manifest)}

    def _put_manifest(
        self, skill: FakeSkill, headers: dict[str, str], body: Any, *, stage: str
    ) -> Answer:
        store = self._stages(skill.skill_id)
        if stage != "development":
            return 400, {}, bad_request(f"The {stage} stage cannot be updated.")
        manifest = body.get("manifest") if isinstance(body, dict) else None
        if not isinstance(manifest, dict):
            return 400, {}, bad_request('The body must be {"manifest": {...}}.')
        if_match = headers.get("if-match")
        if if_match is not None and if_match != store.etags.get(stage):
            return 412, {}, {"message": "The manifest was modified since it was read."}
        store.updates.append(copy.deepcopy(body))
        self._put(store, stage, copy.deepcopy(manifest))
        build = store.build
        build.status, build.polls_left = build.outcome, build.in_progress_polls
        location = f"/v1/skills/{skill.skill_id}/status?resource=manifest"
        return 202, {"Location": location}, None

    def _status(self, skill: FakeSkill, headers: dict[str, str], body: Any) -> Answer:
        if "resource=manifest" not in headers.get(QUERY, ""):
            return 400, {}, bad_request("Only resource=manifest is served by this fake.")
        store = self._stages(skill.skill_id)
        build = store.build
        request: dict[str, Any] = {"status": build.status or "SUCCEEDED"}
        if build.polls_left > 0 or build.status == "IN_PROGRESS":
            build.polls_left -= 1
            request["status"] = "IN_PROGRESS"
        elif build.status == "FAILED":
            request["errors"] = [{"code": "INVALID_ENDPOINT", "message": e} for e in build.errors]
        manifest = {"lastUpdateRequest": request, "eTag": store.etags["development"]}
        return 200, {}, {"manifest": manifest}

    # -- the copies SMAPI makes ------------------------------------------------------------

    def _copy_stage(self, skill_id: str, source: str, target: str) -> None:
        store = self._stages(skill_id)
        self._put(store, target, copy.deepcopy(store.manifests[source]))

    def _drop_stage(self, skill_id: str, stage: str) -> None:
        store = self._stages(skill_id)
        store.manifests.pop(stage, None)
        store.etags.pop(stage, None)
