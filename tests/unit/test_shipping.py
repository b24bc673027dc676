"""The container files agree with the code: Dockerfile, .dockerignore, compose.yaml,
packaging, licence and changelog.

No Docker daemon is needed: the files are parsed as Docker and Compose read them, and
compared with what the bot reads (the Settings model) and installs. The Dockerfile's own
install and start steps run in tests/e2e/test_container_steps.py.
"""

from __future__ import annotations

import re
import tomllib
from urllib.parse import urlsplit

import pytest
import yaml

from bot.cli import environment_variables, required_variables
from tests.support.shipping import (
    ROOT,
    build_context,
    compose_value,
    copies,
    dockerfile,
    dockerignore_rules,
    dockerignored,
    each,
    env_values,
    exec_form,
    healthcheck,
    locked_requirements,
    only,
    pip_install_steps,
)

REPLICAS = ("bot1", "bot2")
#: what an operator's .env gives compose (it refuses to start without a password)
COMPOSE_ENV = {"POSTGRES_PASSWORD": "a-password-of-their-own"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def steps():
    return dockerfile(ROOT / "Dockerfile")


def env_example_groups() -> dict[str, set[str]]:
    """The variables of .env.example under its Required and Optional headings."""
    groups: dict[str, set[str]] = {}
    current = None
    for line in (ROOT / ".env.example").read_text().splitlines():
        heading = re.fullmatch(r"#\s*(Required|Optional)\s*", line)
        if heading:
            current = heading[1].lower()
            groups[current] = set()
        elif current and (m := re.match(r"#?\s*([A-Z][A-Z0-9_]+)=", line)):
            groups[current].add(m[1])
    return groups


def compose_environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: compose_value(str(v), COMPOSE_ENV) for k, v in env.items()}


def read_by_the_bot(name: str) -> bool:
    return name in environment_variables() or name.startswith("AWS_")


# --- compose.yaml ----------------------------------------------------------------------


def test_compose_runs_postgres_and_two_all_in_one_replicas(compose):
    services = compose["services"]
    assert set(services) == {"postgres", *REPLICAS}
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    [data] = [v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    volume = data.split(":")[0]
    assert volume in compose["volumes"], "the database must live in a named volume"
    for name in REPLICAS:
        assert services[name]["command"] == ["skillbot", "run"], name
        assert services[name]["build"] == "."


def test_replicas_publish_distinct_host_ports_onto_their_port(compose):
    host_ports = []
    for name in REPLICAS:
        service = compose["services"][name]
        [mapping] = service["ports"]
        host, container = str(mapping).split(":")
        assert container == compose_environment(service)["PORT"], name
        host_ports.append(int(host))
    assert sorted(host_ports) == [3001, 3002]


def test_replicas_wait_for_a_healthy_database_and_report_their_own_health(compose, steps):
    _, image_check = healthcheck(steps)
    for name in REPLICAS:
        service = compose["services"][name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD"
        # the same probe as the image's HEALTHCHECK: /healthz on the PORT it serves
        assert test[1:] == image_check


def test_replicas_share_one_postgres_database(compose):
    postgres = compose_environment(compose["services"]["postgres"])
    urls = {compose_environment(compose["services"][n])["DATABASE_URL"] for n in REPLICAS}
    [url] = urls
    parts = urlsplit(url)
    assert parts.scheme == "postgresql"
    assert parts.hostname == "postgres" and parts.port == 5432
    assert parts.username == postgres["POSTGRES_USER"]
    assert parts.password == postgres["POSTGRES_PASSWORD"]
    assert parts.path == "/" + postgres["POSTGRES_DB"]


def test_compose_has_no_default_database_password(compose):
    # a default would be the same well-known password on every deployment
    for name in ("postgres", *REPLICAS):
        for value in compose["services"][name]["environment"].values():
            if "POSTGRES_PASSWORD" in str(value):
                with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
                    compose_value(str(value), {})
    assert "POSTGRES_PASSWORD=" in (ROOT / ".env.example").read_text()


def test_compose_sets_only_variables_the_bot_reads(compose):
    for name in REPLICAS:
        for variable in compose_environment(compose["services"][name]):
            assert read_by_the_bot(variable), f"{name} sets {variable}, which skillbot ignores"


def test_required_settings_come_from_the_env_file(compose):
    required = env_example_groups()["required"]
    assert required, ".env.example lists no required variable"
    for name in REPLICAS:
        service = compose["services"][name]
        env_file = service["env_file"]
        assert ".env" in ([env_file] if isinstance(env_file, str) else env_file), name
        # set in compose.yaml they would override the operator's .env
        assert not required & set(compose_environment(service)), name


def test_skills_file_is_mounted_read_only_where_skillbot_config_points(compose):
    for name in REPLICAS:
        service = compose["services"][name]
        target = compose_environment(service)["SKILLBOT_CONFIG"]
        assert f"./skillbot.toml:{target}:ro" in service["volumes"], name


# --- Dockerfile ------------------------------------------------------------------------


def test_image_is_a_pinned_slim_python_installing_the_project_without_extras(steps):
    # a patch release, not a moving tag such as python:3.12-slim
    assert re.fullmatch(
        r"python:3\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", only(steps, "FROM")
    )
    dependencies, project = pip_install_steps(steps)
    assert dependencies[0] == "install" and dependencies[-2:] == [
        "--requirement",
        "requirements.lock",
    ]
    assert project[0] == "install" and project[-1] == "."
    assert "--no-deps" in project and "--no-build-isolation" in project, project
    assert not any("[" in word for word in dependencies + project), "no dev extras in the image"


def test_image_installs_dependencies_before_copying_the_code(steps):
    # a change to the code must not invalidate the dependencies' layer
    order = [(s.instruction, s.arguments) for s in steps if s.instruction in ("COPY", "RUN")]
    first_code = next(i for i, (kind, args) in enumerate(order) if kind == "COPY" and "bot" in args)
    locked = next(i for i, (kind, args) in enumerate(order) if "requirements.lock" in args)
    assert locked < first_code
    copied = {source for sources, _ in copies(steps) for source in sources}
    assert copied == {
        "requirements.lock",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "bot",
        "handlers",
    }


def test_lock_pins_every_dependency_within_pyproject_s_ranges(project):
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in locked_requirements():
        name, sep, version = line.partition("==")
        assert sep and version, f"requirements.lock: {line!r} is not name==version"
        pins[canonicalize_name(name)] = version
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for spec in [*project["dependencies"], *build]:
        wanted = Requirement(spec)
        name = canonicalize_name(wanted.name)
        assert name in pins, f"{wanted.name} is not pinned in requirements.lock"
        assert wanted.specifier.contains(pins[name]), f"{wanted.name}=={pins[name]} is not {spec}"
        for extra in wanted.extras:  # psycopg[binary]
            assert canonicalize_name(f"{wanted.name}-{extra}") in pins, spec


def test_env_example_puts_comments_on_their_own_lines():
    # docker run --env-file and compose's env_file keep a trailing "# ..." in the value
    assignments = 0
    for line in (ROOT / ".env.example").read_text().splitlines():
        if m := re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]+)=(.*)", line):
            assignments += 1
            assert "#" not in m[2], line
    assert assignments >= len(environment_variables())


def test_image_runs_as_a_user_other_than_root(steps):
    user = each(steps, "USER")[-1].split(":")[0]
    assert user not in ("root", "0"), user
    order = [s.instruction for s in steps]
    assert order.index("USER") > max(i for i, s in enumerate(steps) if s.instruction == "RUN")


def test_image_starts_skillbot_run_on_the_port_it_exposes(steps):
    assert exec_form(only(steps, "CMD")) == ["skillbot", "run"]
    assert env_values(steps)["PORT"] == only(steps, "EXPOSE") == "3000"
    assert read_by_the_bot("SKILLBOT_CONFIG") and "SKILLBOT_CONFIG" in env_values(steps)


def test_image_health_check_asks_healthz_on_port_with_python_only(steps):
    options, command = healthcheck(steps)
    assert command[:2] == ["python", "-c"], "slim images have no curl or wget"
    probe = command[2]
    assert "/healthz" in probe and "urllib.request" in probe
    assert "os.environ" in probe and "'PORT'" in probe
    assert options["start-period"] and int(options["retries"]) >= 1


def test_build_context_holds_what_pip_install_needs_and_no_secrets_or_state():
    context = set(build_context())
    needed = {"pyproject.toml", "README.md", "LICENSE", "bot/__init__.py", "bot/cli/__init__.py"}
    needed |= {"handlers/__init__.py", "bot/adapters/migrations/script.py.mako"}
    assert needed <= context, needed - context
    rules = dockerignore_rules(ROOT / ".dockerignore")
    for private in (".env", "skillbot.db", "bot/x.db", ".venv/bin/python", ".git/HEAD"):
        assert dockerignored(private, rules), private
    for cache in (".pytest_cache/v", "bot/__pycache__/cli.cpython-312.pyc", ".mypy_cache/x"):
        assert dockerignored(cache, rules), cache
    assert not dockerignored(".env.example", rules)


# --- packaging, licence, changelog -----------------------------------------------------


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_skillbot_console_script_and_licence_are_declared(project):
    assert project["scripts"] == {"skillbot": "bot.cli:main"}
    assert project["license"] == "MIT"
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    assert "Copyright (c) 2026 The skillbot authors" in licence


def test_changelog_has_unreleased_and_the_current_version(project):
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert headings[:2] == ["Unreleased", project["version"]], headings
    assert re.search(rf"^## \[{re.escape(project['version'])}\] - \d{{4}}-\d\d-\d\d$", text, re.M)


# --- --help and .env.example -----------------------------------------------------------


def test_help_groups_variables_as_env_example_does():
    groups = env_example_groups()
    assert set(required_variables()) == groups["required"]
    listed = groups["required"] | groups["optional"]
    assert set(environment_variables()) <= listed
