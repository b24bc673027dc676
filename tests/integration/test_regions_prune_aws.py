"""Prune of a skill in three AWS regions on moto (one boto3 client per region): each
region's versions planned and deleted through that region's client, each region keeping
its own references, and doctor's code storage read in each AWS region."""

from __future__ import annotations

import pytest

from bot.adapters.slack.kit import say
from bot.devkit.aws import deploy
from tests.support import aws as aws_state
from tests.support.regions import regional_on_moto
from tests.support.users import OPERATOR


@pytest.fixture
def regional(aws):
    """v1 (PROD1), v2 (PROD2) and v3..v6 in every region."""
    services, _notifier, functions = regional_on_moto()
    for n in range(3, 7):
        for fn, client in functions.values():
            deploy(client, fn, f"VERSION = {n}\n")
            client.publish_version(FunctionName=fn)
    yield services, functions
    services.close()


def versions(functions, region):
    fn, client = functions[region]
    return aws_state.versions(client, fn)


def test_prune_deletes_in_every_region_keeping_each_regions_own_references(regional):
    services, functions = regional
    eu_fn, eu_client = functions["EU"]
    eu_client.create_alias(FunctionName=eu_fn, Name="qa", FunctionVersion="4")
    offer = services.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=1)
    parts = {p.region: [v.number for v in p.versions] for p in offer.regions}
    assert parts == {"NA": ["3", "4", "5"], "EU": ["3", "5"], "FE": ["3", "4", "5"]}
    assert all(v.code_size > 0 for p in offer.regions for v in p.versions)
    assert offer.freed == sum(p.freed for p in offer.regions) > 0
    assert versions(functions, "NA")[-1] == "6", "planning deletes nothing"

    fe_fn, fe_client = functions["FE"]  # meanwhile, FE's live alias weights v3
    fe_client.update_alias(
        FunctionName=fe_fn, Name="PROD1", RoutingConfig={"AdditionalVersionWeights": {"3": 0.05}}
    )
    change = services.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    assert versions(functions, "NA") == ["$LATEST", "1", "2", "6"]
    assert versions(functions, "EU") == ["$LATEST", "1", "2", "4", "6"]
    assert versions(functions, "FE") == ["$LATEST", "1", "2", "3", "6"]
    assert "FE: Kept, in use by now: v3 (alias PROD1 sends it traffic)." in change.notes
    assert change.notes[0].startswith("NA: Deleted v3, v4, v5;")


def test_doctor_reads_the_code_storage_of_each_aws_region(regional):
    services, _functions = regional
    report = services.cases.planning.doctor("trivia", actor=OPERATOR)
    storage = {f.check: say(f.detail) for f in report.findings if f.check.endswith("code storage")}
    assert set(storage) == {"code storage", "EU: code storage", "FE: code storage"}
    assert storage["EU: code storage"].startswith("eu-west-1: ")
    assert storage["FE: code storage"].startswith("us-west-2: ")
