from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

pytestmark = pytest.mark.django_db


def test_it_creates_a_superuser_and_prints_the_login(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.DEBUG = True
    call_command("ensure_demo_user")
    user = get_user_model().objects.get(username="demo")
    assert user.is_superuser
    assert user.is_staff
    assert user.is_active
    assert user.check_password("demo")
    assert "username=demo password=demo" in capsys.readouterr().out


def test_it_is_idempotent_and_resets_the_password(settings: Settings) -> None:
    settings.DEBUG = True
    call_command("ensure_demo_user")
    call_command("ensure_demo_user", "--password", "another-one")
    users = get_user_model().objects.filter(username="demo")
    assert users.count() == 1
    assert users.get().check_password("another-one")


def test_it_refuses_outside_debug(settings: Settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG is false"):
        call_command("ensure_demo_user")
    assert not get_user_model().objects.filter(username="demo").exists()
