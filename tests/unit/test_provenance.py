"""Where the code came from: ``--commit SHA [--repo OWNER/NAME]`` is kept in the
published version's Lambda description and read back from it, so plans, announcements,
history and ``--json`` say ``abc1234 → def5678`` (linked to GitHub's compare page)."""

from __future__ import annotations

import pytest

from bot.adapters.slack import plans
from bot.cli.render import plan_json
from bot.commands import parse
from bot.domain.errors import Refused
from bot.domain.provenance import Provenance
from tests.support.users import OPERATOR
from tests.support.world import make_world

FN = "trivia-skill"
OLD = "abc1234" + "0" * 33
NEW = "def5678" + "1" * 33


@pytest.fixture
def w():
    return make_world()


def hotfix(w, code: str, commit: str, repo: str | None = "acme/trivia"):
    w.lam.deploy(FN, code)
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, commit=commit, repo=repo)
    return plan, w.cases.applying.apply(plan.id, actor=OPERATOR)


def test_the_commit_is_kept_in_the_version_and_read_back_by_the_next_plan(w):
    first, _ = hotfix(w, "code-3", OLD)
    assert first.provenance == Provenance(OLD, "acme/trivia") and first.from_provenance is None
    assert w.lam.functions[FN].versions["3"].description.endswith(f"commit={OLD} repo=acme/trivia")

    second, _ = hotfix(w, "code-4", NEW)
    assert second.from_provenance == Provenance(OLD, "acme/trivia")  # from v3's description
    compare = f"https://github.com/acme/trivia/compare/{OLD}...{NEW}"
    assert f"• commits <{compare}|abc1234 → def5678>" in str(plans.plan_message(second))
    announced = w.notifier.top_level("C0TRIVIA")[-1]
    assert "(commits abc1234 → def5678)" in announced.text
    assert f"*Commits*\\n<{compare}|abc1234 → def5678>" in str(announced.blocks)
    [applied] = [
        e
        for e in w.cases.reading.history("trivia")
        if e.plan_id == second.id and e.outcome.value == "applied"
    ]
    assert "(commits abc1234 → def5678)" in applied.detail
    assert plan_json(second)["commits"] == {
        "from": OLD,
        "to": NEW,
        "repo": "acme/trivia",
        "compare_url": compare,
    }


def test_a_rollback_reads_both_sides_from_the_versions(w):
    hotfix(w, "code-3", OLD)
    hotfix(w, "code-4", NEW)
    rollback = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR)
    assert rollback.to_version == "3" and rollback.commits == "def5678 → abc1234"


def test_without_a_commit_nothing_is_claimed(w):
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    assert plan.provenance is None and plan.commits is None
    assert "commits" not in str(plans.plan_message(plan))


@pytest.mark.parametrize(
    ("commit", "repo", "problem"),
    [
        ("main", None, "is not a commit"),
        ("abc12", None, "is not a commit"),
        (OLD, "not a repo", "is not a repository like OWNER/NAME"),
        (None, "acme/trivia", "give --commit SHA too"),
    ],
)
def test_a_commit_that_is_not_one_is_refused_and_changes_nothing(w, commit, repo, problem):
    w.lam.deploy(FN, "code-3")
    with pytest.raises(Refused, match=problem):
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, commit=commit, repo=repo)


def test_the_command_line_takes_commit_and_repo_and_slack_does_not():
    cli = parse(f"hotfix --commit {NEW} --repo acme/trivia", ["trivia"], prog="skillbot")
    assert (cli.option("commit"), cli.option("repo")) == (NEW, "acme/trivia")
    with pytest.raises(Refused, match="is not an option of"):
        parse(f"hotfix --commit {NEW}", ["trivia"])


def test_a_github_pipeline_names_its_repository():
    w = make_world(pipelines=["github:acme/trivia"])
    w.lam.deploy(FN, "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor="github:acme/trivia", commit=NEW)
    assert plan.provenance == Provenance(NEW, "acme/trivia")
