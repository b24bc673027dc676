"""Read the shipped container files the way Docker and Compose do, for tests.

``Dockerfile`` instructions with continuations joined, exec-form arguments decoded,
``.dockerignore`` applied to paths, Compose's ``${VAR:-default}`` resolved to the
default::

    steps = dockerfile(ROOT / "Dockerfile")
    exec_form(only(steps, "CMD"))      # ["skillbot", "run"]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: wheels of the project's dependencies, built once per pyproject.toml (see :func:`wheelhouse`)
WHEELS = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "skillbot-tests"


@dataclass(frozen=True)
class Step:
    instruction: str  # upper case: FROM, RUN, ...
    arguments: str  # the rest of the (joined) line


def dockerfile(path: Path) -> list[Step]:
    steps: list[Step] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        instruction, _, arguments = (pending + line).strip().partition(" ")
        steps.append(Step(instruction.upper(), arguments.strip()))
        pending = ""
    assert not pending, f"{path}: the last instruction ends with a continuation"
    return steps


def each(steps: list[Step], instruction: str) -> list[str]:
    return [s.arguments for s in steps if s.instruction == instruction]


def only(steps: list[Step], instruction: str) -> str:
    [arguments] = each(steps, instruction)
    return arguments


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD, ENTRYPOINT or HEALTHCHECK ... CMD."""
    decoded = json.loads(arguments)
    assert isinstance(decoded, list) and all(isinstance(a, str) for a in decoded), arguments
    return decoded


def healthcheck(steps: list[Step]) -> tuple[dict[str, str], list[str]]:
    """The options and the exec-form command of the one HEALTHCHECK."""
    options_text, marker, command = only(steps, "HEALTHCHECK").partition(" CMD ")
    assert marker, "HEALTHCHECK without CMD"
    options = dict(o.removeprefix("--").split("=", 1) for o in options_text.split())
    return options, exec_form(command.strip())


def env_values(steps: list[Step]) -> dict[str, str]:
    """Every ``ENV key=value`` the Dockerfile sets (the key=value form only)."""
    values: dict[str, str] = {}
    for arguments in each(steps, "ENV"):
        for pair in shlex.split(arguments):
            key, sep, value = pair.partition("=")
            assert sep, f"ENV {arguments!r}: use the key=value form"
            values[key] = value
    return values


def pip_install_steps(steps: list[Step]) -> list[list[str]]:
    """The arguments after ``pip`` of each ``RUN pip install ...`` step, in order."""
    runs = [shlex.split(r) for r in each(steps, "RUN")]
    installs = [words[1:] for words in runs if words[:2] == ["pip", "install"]]
    for words in installs:
        assert "&&" not in words and ";" not in " ".join(words), words
    return installs


def copies(steps: list[Step]) -> list[tuple[list[str], str]]:
    """Each ``COPY SRC... DEST`` as (sources, destination), in order."""
    pairs = []
    for arguments in each(steps, "COPY"):
        *sources, destination = shlex.split(arguments)
        assert sources and not any(s.startswith("--") for s in sources), arguments
        pairs.append((sources, destination))
    return pairs


def _pattern(pattern: str) -> re.Pattern[str]:
    parts = []
    for piece in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
        parts.append(
            {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(piece, re.escape(piece))
        )
    return re.compile("".join(parts))


def dockerignored(path: str, rules: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context: the last rule matching the
    path or one of its parent directories decides; ``!`` rules bring paths back."""
    prefixes = ["/".join(path.split("/")[: i + 1]) for i in range(path.count("/") + 1)]
    ignored = False
    for rule in rules:
        negate = rule.startswith("!")
        pattern = _pattern(rule.removeprefix("!"))
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def dockerignore_rules(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def build_context(root: Path = ROOT) -> list[str]:
    """The repository's files (tracked, or new and not git-ignored) that Docker sends."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    rules = dockerignore_rules(root / ".dockerignore")
    return sorted(
        p for p in set(listed) if p and (root / p).is_file() and not dockerignored(p, rules)
    )


_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<word>[^}]*))?\}"
)


def compose_value(value: str, env: dict[str, str] | None = None) -> str:
    """A Compose value interpolated as Compose does from ``env`` (its .env): ``${VAR}``,
    ``${VAR:-default}``, and ``${VAR:?error}``, which fails when VAR is unset or empty."""
    env = env or {}

    def one(m: re.Match[str]) -> str:
        given = env.get(m["name"], "")
        if m["op"] in (":?", "?") and not given:
            raise KeyError(f"{m['name']}: {m['word']}")
        return given or (m["word"] if m["op"] in (":-", "-") else "")

    return _INTERPOLATION.sub(one, value)


def locked_requirements() -> list[str]:
    """The ``name==version`` lines of requirements.lock."""
    lines = (line.strip() for line in (ROOT / "requirements.lock").read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def wheelhouse() -> Path:
    """A folder of wheels of everything the image installs (requirements.lock: the
    dependencies and the build backend), built from the package index once per version of
    the lock, so that installing the build context again unpacks them instead of
    downloading and building them again. The project itself is never in it."""
    wanted = locked_requirements()
    key = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
    house = WHEELS / f"wheels-{key}"
    if (house / "complete").exists():
        return house
    building = house.with_name(f"{house.name}.{os.getpid()}")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "-w", str(building), *wanted],
        check=True,
        timeout=600,
    )
    (building / "complete").touch()
    try:
        building.rename(house)
    except OSError:  # built meanwhile by another run: theirs is as good
        subprocess.run(["rm", "-rf", str(building)], check=False)
    return house
