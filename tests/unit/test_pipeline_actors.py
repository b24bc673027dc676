"""Who acts from the command line: --as, SKILLBOT_ACTOR, or the CD pipeline of the
environment; and how Slack names each."""

from __future__ import annotations

import pytest

from bot.cli.exit_codes import UsageError
from bot.cli.session import resolve_actor
from bot.config import Settings, parse_skills, pipeline_run
from bot.domain import actors
from bot.domain.errors import ConfigError
from tests.support.skills import skills_config

GITHUB = {
    "GITHUB_ACTOR": "octocat",
    "GITHUB_REPOSITORY": "acme/trivia",
    "GITHUB_RUN_ID": "99",
    "GITHUB_SERVER_URL": "https://git.acme.example/",
}
CODEBUILD_ARN = "arn:aws:codebuild:eu-west-1:123456789012:build/trivia-deploy:0b1c2d3e-4f50"


def test_github_actions_is_the_repository_with_a_link_to_its_run():
    run = pipeline_run(GITHUB)
    assert run is not None
    assert run.identity == "github:acme/trivia"
    assert run.run_url == "https://git.acme.example/acme/trivia/actions/runs/99"
    assert run.started_by == "octocat"


def test_codebuild_is_the_project_with_its_build_link():
    url = "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/trivia-deploy/build/trivia-deploy%3A0b1c2d3e-4f50/"
    run = pipeline_run({"CODEBUILD_BUILD_ARN": CODEBUILD_ARN, "CODEBUILD_BUILD_URL": url})
    assert run is not None and (run.identity, run.run_url) == ("codebuild:trivia-deploy", url)
    assert (
        actors.display(run.identity, run.run_url)
        == f"codebuild:trivia-deploy (run <{url}|0b1c2d3e>)"
    )


@pytest.mark.parametrize(
    "env", [{}, {"GITHUB_ACTOR": "octocat"}, {"GITHUB_REPOSITORY": "a/b", "GITHUB_RUN_ID": "1"}]
)
def test_no_pipeline_without_its_whole_identity(env):
    assert pipeline_run(env) is None


def test_inside_a_pipeline_the_pipeline_acts_and_as_names_who_asked(monkeypatch):
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None, skillbot_actor="U0BOB")  # type: ignore[call-arg]
    none = Settings(_env_file=None)  # type: ignore[call-arg]
    run_url = "https://git.acme.example/acme/trivia/actions/runs/99"

    explicit = resolve_actor("U0ALICE", settings)
    assert explicit is not None
    assert (explicit.identity, explicit.run_url, explicit.on_behalf_of) == (
        "github:acme/trivia",
        run_url,
        "U0ALICE",
    )
    from_setting = resolve_actor(None, settings)
    assert from_setting is not None and from_setting.identity == "github:acme/trivia"
    assert from_setting.on_behalf_of == "U0BOB" and not from_setting.from_terminal
    pipeline = resolve_actor(None, none)
    assert pipeline is not None and pipeline.identity == "github:acme/trivia"
    assert pipeline.run_url == run_url and pipeline.on_behalf_of is None
    # naming the pipeline it runs in is the pipeline, with its run
    named = resolve_actor("github:acme/trivia", none)
    assert named is not None and (named.run_url, named.on_behalf_of) == (run_url, None)
    with pytest.raises(UsageError, match="cannot act as the pipeline github:acme/other"):
        resolve_actor("github:acme/other", none)


def test_a_terminal_cannot_claim_a_pipeline_identity(monkeypatch):
    for name in GITHUB:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CODEBUILD_BUILD_ARN", raising=False)
    none = Settings(_env_file=None)  # type: ignore[call-arg]
    person = resolve_actor("U0ALICE", none)
    assert person is not None and (person.identity, person.source) == ("U0ALICE", "--as")
    assert person.from_terminal
    with pytest.raises(UsageError, match="a terminal cannot act as the pipeline") as err:
        resolve_actor("github:acme/trivia", none)
    assert "a pipeline acts as itself when the command runs inside it" in err.value.hint
    as_setting = Settings(_env_file=None, skillbot_actor="codebuild:deploy")  # type: ignore[call-arg]
    with pytest.raises(UsageError, match="SKILLBOT_ACTOR 'codebuild:deploy'"):
        resolve_actor(None, as_setting)


def test_no_actor_outside_a_pipeline_and_nonsense_is_refused(monkeypatch):
    for name in GITHUB:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CODEBUILD_BUILD_ARN", raising=False)
    assert resolve_actor(None, Settings(_env_file=None)) is None  # type: ignore[call-arg]
    with pytest.raises(UsageError, match="is not a Slack member id"):
        resolve_actor("<!channel>", Settings(_env_file=None))  # type: ignore[call-arg]


def test_skillbot_actor_is_read_from_dot_env(tmp_path, monkeypatch):
    monkeypatch.delenv("SKILLBOT_ACTOR", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("SKILLBOT_ACTOR=U0ALICE\n")
    assert Settings(_env_file=env_file).skillbot_actor == "U0ALICE"  # type: ignore[call-arg]


def test_pipelines_in_the_skills_file_are_identities():
    config = parse_skills(skills_config(pipelines=["github:acme/trivia", "codebuild:deploy"]))
    assert config.pipelines == ["github:acme/trivia", "codebuild:deploy"]
    with pytest.raises(ConfigError) as err:
        parse_skills(skills_config(pipelines=["acme/trivia"]))
    assert "pipelines" in err.value.message and "github:ORG/REPO" in err.value.message


def test_slack_names_people_by_mention_and_pipelines_by_name():
    assert actors.display("U0ALICE") == "<@U0ALICE>"
    assert actors.display("github:acme/trivia") == "github:acme/trivia"
    # whatever reaches it, a name never becomes markup
    assert actors.display("x<!channel>") == "x&lt;!channel&gt;"
