"""The container image's recipe, read with BuildKit's own parser (`dockerfile`): a non-root
user, a slim runtime stage without build tools, the web UI built in its own stage.

The image itself cannot be built here (no Docker daemon, no registry but the package ones), so
these tests check the recipe; `docker build .` from the repository root builds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import dockerfile
import pytest
import yaml

from tests.deploy.conftest import CHART, ROOT

BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|cc|clang|make|cmake|build-essential|npm|node|yarn|git|curl|wget|"
    r"apt-get|apt|apk|pip|pip3|uv|poetry|cargo|rustc|go)\b"
)


@dataclass
class Stage:
    base: str
    name: str | None
    commands: list[dockerfile.Command] = field(default_factory=list)

    def all(self, cmd: str) -> list[dockerfile.Command]:
        return [c for c in self.commands if c.cmd == cmd]

    def runs(self) -> str:
        return "\n".join(" ".join(c.value) for c in self.all("RUN"))


def build_args(commands: tuple[dockerfile.Command, ...]) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM."""
    args: dict[str, str] = {}
    for command in commands:
        if command.cmd == "FROM":
            break
        if command.cmd == "ARG" and "=" in command.value[0]:
            name, default = command.value[0].split("=", 1)
            args[name] = default
    return args


def stages() -> list[Stage]:
    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    args = build_args(commands)
    found: list[Stage] = []
    for command in commands:
        if command.cmd == "FROM":
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], command.value[0])
            name = command.value[2] if len(command.value) == 3 else None
            found.append(Stage(base, name))
        elif found:
            found[-1].commands.append(command)
    return found


@pytest.fixture(scope="module")
def final() -> Stage:
    return stages()[-1]


# An image reference pinned to one content digest: `name:tag@sha256:<64 hex digits>`.
PINNED = re.compile(r"[a-z0-9./_-]+:[\w.-]+@sha256:[0-9a-f]{64}")


def test_every_base_image_is_pinned_by_digest() -> None:
    """A tag moves; a digest names the same bytes on every rebuild. Stages built from another
    stage (`FROM build`) are pinned by that stage's base."""
    built = stages()
    names = {stage.name for stage in built}
    outside = [stage.base for stage in built if stage.base not in names]
    assert outside, "every stage is built from another: no base image at all?"
    for base in outside:
        assert PINNED.fullmatch(base), f"FROM {base} is not pinned by digest"


def test_the_image_is_built_in_three_stages() -> None:
    assert [s.name for s in stages()] == ["web", "build", "runtime"]


def test_the_web_ui_is_built_by_npm_in_its_own_stage() -> None:
    web = stages()[0]
    assert web.base.startswith("node:")
    copied = [" ".join(c.value) for c in web.all("COPY")]
    assert copied[0] == "web/package.json web/package-lock.json web/"
    assert "npm ci" in web.runs() and "npm run build" in web.runs()


def test_the_runtime_runs_as_the_charts_non_root_user(final: Stage) -> None:
    (user,) = final.all("USER")
    uid, _, gid = user.value[0].partition(":")
    assert uid.isdigit() and int(uid) != 0  # numeric, so runAsNonRoot can verify it
    assert gid.isdigit() and int(gid) != 0
    assert f"--uid {uid}" in final.runs()
    # USER comes after every RUN: nothing of the image's own runs as root at start.
    assert final.commands.index(user) > max(final.commands.index(r) for r in final.all("RUN"))
    pod = yaml.safe_load((CHART / "values.yaml").read_text())["podSecurityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"]) == (int(uid), int(gid))


def test_the_runtime_is_slim_and_has_no_build_tools(final: Stage) -> None:
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?@sha256:[0-9a-f]{64}", final.base), final.base
    for run in final.all("RUN"):
        assert not BUILD_TOOLS.search(" ".join(run.value)), run.original
    sources = {flag for c in final.all("COPY") for flag in c.flags}
    assert sources == {"--from=build"}  # only the built environment, no sources, no web stage
    (copy,) = final.all("COPY")
    assert copy.value == ("/opt/crossforce", "/opt/crossforce")


def test_the_built_environment_leaves_its_installer_behind() -> None:
    build = stages()[1]
    assert "pip uninstall --yes pip setuptools wheel" in build.runs()


def test_the_entrypoint_serves_on_the_charts_port(final: Stage) -> None:
    assert final.all("ENTRYPOINT")[0].value == ("crossforce",)
    # A container listens on all its interfaces; the NetworkPolicy decides who reaches it.
    serve = ("serve", "--host", "0.0.0.0", "--port", "8000")  # noqa: S104
    assert final.all("CMD")[0].value == serve
    assert final.all("EXPOSE")[0].value == ("8000",)
    deployment = (CHART / "templates" / "deployment.yaml").read_text()
    assert "containerPort: 8000" in deployment


def test_dockerignore_admits_only_sources_and_never_keys() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"  # deny by default
    for never in ("**/.crossforce/", "**/*.key", "**/client-secrets.json", "web/node_modules/"):
        assert never in lines
