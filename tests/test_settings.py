"""Settings behaviour that operators and developers rely on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client

from project.celery import app as celery_app
from project.env import (
    celery_broker_config,
    database_config,
    env_bool,
    env_int,
    env_list,
    env_str,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Any http(s) or protocol-relative URL in a src/href attribute would be a CDN or other remote asset.
REMOTE_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", re.IGNORECASE)
LOCAL_ASSET = re.compile(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)["']""", re.IGNORECASE)


def run_python(code: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    """Run `python -c code` from the repository root, with a clean Django-related environment."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "CELERY_"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "project.settings"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestEnvHelpers:
    def test_env_bool_reads_common_spellings(self) -> None:
        assert env_bool("X", False, environ={"X": "yes"}) is True
        assert env_bool("X", True, environ={"X": "OFF"}) is False
        assert env_bool("X", True, environ={}) is True

    def test_env_bool_rejects_a_typo_rather_than_guessing(self) -> None:
        with pytest.raises(ImproperlyConfigured, match="X must be true or false"):
            env_bool("X", False, environ={"X": "ture"})

    def test_env_int_parses_and_rejects(self) -> None:
        assert env_int("N", 3, environ={"N": "25"}) == 25
        assert env_int("N", 3, environ={}) == 3
        with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
            env_int("N", 3, environ={"N": "twenty"})

    def test_env_list_splits_on_commas_and_drops_blanks(self) -> None:
        environ = {"HOSTS": " a.example , b.example,, "}
        assert env_list("HOSTS", environ=environ) == ["a.example", "b.example"]
        assert env_list("HOSTS", ["x"], environ={}) == ["x"]

    def test_a_file_variable_wins_and_loses_its_trailing_newline(self, tmp_path: Path) -> None:
        secret = tmp_path / "secret"
        secret.write_text("s3cret\n")
        environ = {"KEY": "ignored", "KEY_FILE": str(secret)}
        assert env_str("KEY", environ=environ) == "s3cret"

    def test_an_empty_value_means_unset(self) -> None:
        assert env_str("BACKEND", "default", environ={"BACKEND": ""}) == "default"
        assert env_int("PORT", 25, environ={"PORT": ""}) == 25

    def test_an_unreadable_secret_file_is_a_configuration_error(self, tmp_path: Path) -> None:
        with pytest.raises(ImproperlyConfigured, match="KEY_FILE"):
            env_str("KEY", environ={"KEY_FILE": str(tmp_path / "missing")})


class TestDatabaseUrl:
    def test_no_url_means_the_sqlite_file_in_the_repository(self) -> None:
        config = database_config("", default_sqlite_path=REPO_ROOT / "db.sqlite3", conn_max_age=60)
        assert config["ENGINE"] == "django.db.backends.sqlite3"
        assert config["NAME"] == str(REPO_ROOT / "db.sqlite3")
        assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"

    def test_a_postgres_url_switches_the_engine(self) -> None:
        config = database_config(
            "postgres://asylum:pw@db.internal:5433/asylum",
            default_sqlite_path=REPO_ROOT / "db.sqlite3",
            conn_max_age=60,
        )
        assert config["ENGINE"] == "django.db.backends.postgresql"
        assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "asylum")
        assert (config["USER"], config["PASSWORD"]) == ("asylum", "pw")
        assert config["CONN_MAX_AGE"] == 60

    def test_the_running_tests_use_the_configured_database(self) -> None:
        url = os.environ.get("DATABASE_URL", "")
        assert connection.vendor == ("postgresql" if url.startswith("postgres") else "sqlite")


class TestCeleryBroker:
    def test_redis_url_selects_redis(self, tmp_path: Path) -> None:
        config = celery_broker_config("redis://127.0.0.1:6379/3", run_dir=tmp_path)
        assert config["broker_url"] == "redis://127.0.0.1:6379/3"
        assert not (tmp_path / "queue").exists()

    def test_without_redis_url_messages_go_through_folders_created_on_startup(
        self, tmp_path: Path
    ) -> None:
        config = celery_broker_config("", run_dir=tmp_path / "celery")
        assert config["broker_url"].startswith("filesystem://")
        options = config["broker_transport_options"]
        # The same folder in and out, so what web and beat write, the worker reads.
        assert options["data_folder_in"] == options["data_folder_out"]
        for key in ("data_folder_in", "control_folder", "processed_folder"):
            assert Path(options[key]).is_dir()

    def test_the_app_reads_its_reliability_settings(self) -> None:
        assert celery_app.main == "project"
        assert celery_app.conf.task_acks_late is True
        assert celery_app.conf.worker_prefetch_multiplier == 1
        assert celery_app.conf.beat_scheduler.startswith("django_celery_beat.schedulers")
        assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL

    def test_task_success_is_logged_without_the_return_value(self) -> None:
        # Return values could carry personal data.
        from celery.app import trace

        assert "return_value" not in trace.LOG_SUCCESS

    @pytest.mark.integration
    def test_the_configured_broker_accepts_a_connection(self) -> None:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=2)
            assert conn.connected


class TestProductionMode:
    def test_it_refuses_to_start_without_a_secret_key(self) -> None:
        result = run_python("import django; django.setup()", DJANGO_DEBUG="false")
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY" in result.stderr
        assert "ImproperlyConfigured" in result.stderr

    def test_it_starts_with_a_secret_key_from_a_file(self, tmp_path: Path) -> None:
        key_file = tmp_path / "key"
        key_file.write_text("x" * 60 + "\n")
        result = run_python(
            "import django; django.setup();"
            "from django.conf import settings;"
            "print(settings.DEBUG, len(settings.SECRET_KEY), settings.SESSION_COOKIE_SECURE)",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY_FILE=str(key_file),
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["False", "60", "True"]

    def test_it_passes_the_deployment_checklist(self) -> None:
        result = run_python(
            "import sys; from django.core.management import execute_from_command_line;"
            "execute_from_command_line(['manage.py', 'check', '--deploy'])",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="k3y-" + "a1B2c3D4e5" * 6,
            DJANGO_ALLOWED_HOSTS="delais.example.org",
        )
        assert result.returncode == 0, result.stderr
        for check_id in ("W004", "W008", "W009", "W012", "W016", "W018", "W020"):
            assert f"security.{check_id}" not in result.stdout + result.stderr


def test_healthz_answers_ok_after_a_database_ping(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_login_and_refuses_writes(client: Client, db: None) -> None:
    assert client.post("/healthz").status_code == 405


def test_the_api_docs_page_loads_no_asset_from_another_site(client: Client, db: None) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not REMOTE_ASSET.search(html), REMOTE_ASSET.findall(html)
    assets = LOCAL_ASSET.findall(html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    # Every asset really is served by this application (WhiteNoise), not just referenced.
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_the_openapi_schema_is_public_and_titled(client: Client, db: None) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Asylum time limits API"


def test_the_api_requires_authentication_by_default() -> None:
    permissions = settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]
    assert permissions == ["rest_framework.permissions.IsAuthenticated"]


def test_french_is_the_default_language_and_english_is_offered() -> None:
    assert settings.LANGUAGE_CODE == "fr"
    assert [code for code, _ in settings.LANGUAGES] == ["fr", "en"]
    assert settings.TIME_ZONE == "Europe/Paris"
    assert settings.USE_TZ


def test_env_example_lists_every_variable_the_settings_read() -> None:
    source = (REPO_ROOT / "project" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', source))
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text(), re.M))
    assert read, "no env_* call found: has the settings module changed shape?"
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"
