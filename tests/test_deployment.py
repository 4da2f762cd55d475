"""The deployment files agree with the project: docker-compose.yml, .env.example, settings.

No Docker engine runs where this project is developed, so the compose file is checked here
rather than run: each command exists, each variable is read and documented, images are pinned,
no secret is typed in the file, every service restarts. And every process reads `.env`.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

from project.env import read_env_file

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = ("web", "worker", "beat")
# Read by tools rather than by our code: gunicorn's worker count.
READ_BY_TOOLS = {"WEB_CONCURRENCY"}
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def python_files() -> list[Path]:
    skip = {".venv", "tests", "benchmarks", "node_modules"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skip.intersection(path.relative_to(ROOT).parts) and "migrations" not in path.parts
    ]


def variables_read_by_code() -> set[str]:
    """Every environment variable the project's Python code reads (env_* helpers, os.environ)."""
    names: set[str] = set()
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                first = node.args[0]
                is_environ_get = (
                    name == "get"
                    and isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Attribute)
                    and func.value.attr == "environ"
                )
                if (name in {"env_str", "env_bool", "env_int", "env_list"} or is_environ_get) and (
                    isinstance(first, ast.Constant) and isinstance(first.value, str)
                ):
                    names.add(first.value)
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "environ"
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
            ):
                names.add(node.slice.value)
    return names - NOT_SETTINGS


def variables_read_by_run_script() -> set[str]:
    text = (ROOT / "scripts" / "run.sh").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)) - {"BASH_REMATCH"}


def documented_variables() -> set[str]:
    """NAME=… lines of .env.example, and commented-out "# NAME=…" ones."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def app_environment() -> dict[str, str]:
    environment: dict[str, str] = COMPOSE["x-app"]["environment"]
    return environment


def test_every_variable_the_project_reads_is_documented_in_env_example() -> None:
    missing = (variables_read_by_code() | variables_read_by_run_script()) - documented_variables()
    assert not missing, f"read but not in .env.example: {sorted(missing)}"


def test_every_variable_env_example_lists_is_read_by_the_project() -> None:
    read = variables_read_by_code() | variables_read_by_run_script() | READ_BY_TOOLS
    unread = documented_variables() - read
    assert not unread, f"in .env.example but read by nothing: {sorted(unread)}"


def test_every_variable_compose_gives_the_app_is_read_by_its_settings() -> None:
    unread = set(app_environment()) - variables_read_by_code()
    assert not unread, f"docker-compose.yml passes {sorted(unread)}, which nothing reads"


def test_the_app_containers_take_every_setting_from_the_env_file() -> None:
    for name in APP_SERVICES:
        service = {**COMPOSE["x-app"], **COMPOSE["services"][name]}
        assert service["env_file"] == ".env", name
    # Only how containers reach each other is written in the file, and production mode.
    assert set(app_environment()) == {"DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL"}
    assert app_environment()["DJANGO_DEBUG"] == "false"


def test_every_image_is_pinned_to_a_version() -> None:
    images = {
        name: s["image"]
        for name, s in COMPOSE["services"].items()
        if "image" in s and name not in APP_SERVICES
    }
    images["app"] = COMPOSE["x-app"]["image"]
    for name, image in images.items():
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag not in {"latest", ""}, f"{name}: {image} is not pinned"
        if name != "app":  # our own build is tagged "local"
            assert re.search(r"\d+\.\d+", tag), f"{name}: {image} names no version"


SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")


def test_no_secret_is_typed_in_the_compose_file() -> None:
    environments: list[tuple[str, dict[str, Any]]] = [("x-app", app_environment())]
    environments += [(name, s.get("environment") or {}) for name, s in COMPOSE["services"].items()]
    for where, environment in environments:
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", str(value)), (
                    f"{where}: {key} is typed in the file, not taken from .env"
                )
            if str(value).startswith(("postgres://", "redis://")):
                assert urllib.parse.urlsplit(str(value)).password is None, (
                    f"{where}: {key} carries a password"
                )


def test_every_service_restarts_when_it_dies() -> None:
    for name, service in COMPOSE["services"].items():
        merged = {**COMPOSE["x-app"], **service} if name in APP_SERVICES else service
        assert merged.get("restart") in {"unless-stopped", "always"}, name


def command_words(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2].replace("&&", " && "))
    return list(command)


def test_each_compose_command_is_a_real_command_of_the_project() -> None:
    commands = get_commands()
    for name in APP_SERVICES:
        words = command_words(COMPOSE["services"][name])
        for index, word in enumerate(words):
            if word == "manage.py":
                assert words[index + 1] in commands, f"{name}: manage.py {words[index + 1]}"
            if word in {"celery", "gunicorn"}:
                requirements = (ROOT / "requirements.txt").read_text().lower()
                assert f"\n{word}==" in f"\n{requirements}", f"{word} is not a requirement"
            if word == "-A":
                assert (ROOT / words[index + 1] / "celery.py").is_file()
            if ":" in word and word.endswith(":application"):
                module = word.split(":")[0].replace(".", "/") + ".py"
                assert (ROOT / module).is_file(), word


def test_the_web_container_migrates_and_loads_the_shipped_packs_before_serving() -> None:
    words = command_words(COMPOSE["services"]["web"])
    order = [w for w in words if w in {"migrate", "loadrulepack", "gunicorn"}]
    assert order == ["migrate", "loadrulepack", "gunicorn"]
    for name in ("worker", "beat"):
        assert COMPOSE["services"][name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_the_web_healthcheck_probes_healthz_on_the_loopback_address() -> None:
    """/healthz answers whatever the Host header (tests/notifications/test_health.py proves
    it), so the probe works when DJANGO_ALLOWED_HOSTS holds the public name only."""
    test = " ".join(COMPOSE["services"]["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in test


# --- .env is read by every process ---------------------------------------------------------


def test_an_env_file_is_read_as_scripts_run_sh_reads_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\n\nDJANGO_DEBUG=false\nDATABASE_URL='postgres://u@db:5432/x'\n"
        'DEFAULT_FROM_EMAIL="Délais <d@example.org>"\nexport REDIS_URL=redis://r:6379/0\nEMPTY=\n'
    )
    assert read_env_file(env_file) == {
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": "postgres://u@db:5432/x",
        "DEFAULT_FROM_EMAIL": "Délais <d@example.org>",
        "REDIS_URL": "redis://r:6379/0",
        "EMPTY": "",
    }


def test_a_broken_env_file_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    from django.core.exceptions import ImproperlyConfigured

    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=true\nthis is not a setting\n")
    with pytest.raises(ImproperlyConfigured, match=r"\.env, line 2: not NAME=value"):
        read_env_file(env_file)


def run_manage(args: list[str], env_file: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "DJANGO_", "CELERY_"))
    }
    env.update({"DJANGO_ENV_FILE": str(env_file), **extra})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_manage_py_reads_the_env_file_and_the_environment_wins(tmp_path: Path) -> None:
    """`manage.py issue_api_token` once wrote to db.sqlite3 while .env named PostgreSQL."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"DATABASE_URL=sqlite:///{tmp_path}/from-env-file.sqlite3\nDJANGO_LOG_LEVEL=WARNING\n"
    )
    show = [
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['NAME'], settings.LOG_LEVEL)",
    ]
    done = run_manage(show, env_file)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"{tmp_path}/from-env-file.sqlite3", "WARNING"]
    done = run_manage(show, env_file, DJANGO_LOG_LEVEL="ERROR")
    assert done.stdout.split()[1] == "ERROR"


def test_a_missing_env_file_named_by_django_env_file_stops_the_process(tmp_path: Path) -> None:
    done = run_manage(["check"], tmp_path / "nowhere.env")
    assert done.returncode != 0
    assert "DJANGO_ENV_FILE: no file" in done.stderr
