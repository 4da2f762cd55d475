"""French first, English on request: compiled catalogues, a switch that keeps the page, and
dates written the reader's way."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.models import Case

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"


def switch(client: Client, language: str, next_url: str) -> str:
    response = client.post(reverse("set_language"), {"language": language, "next": next_url})
    assert response.status_code == 302
    return str(response["Location"])


def test_the_compiled_french_catalogue_is_in_the_tree() -> None:
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    assert po.exists()
    assert mo.exists()
    assert mo.stat().st_size > 1000


def test_every_french_entry_is_translated_and_none_is_fuzzy() -> None:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = text.split("\n\n")[1:]
    untranslated = [e for e in entries if 'msgstr ""' in e and e.count('"') == 4]
    assert untranslated == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_the_committed_mo_file_is_compiled_from_the_po_file(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(LOCALE / "django.po")], check=True
    )
    assert compiled.read_bytes() == (LOCALE / "django.mo").read_bytes(), (
        "run: .venv/bin/python manage.py compilemessages -l fr"
    )


def test_pages_are_in_french_by_default(client: Client, case_a: Case, carla: User) -> None:
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="fr">' in page
    assert "Se connecter" in page
    client.force_login(carla)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Mes échéances" in page
    assert "En retard" in page
    assert "Aller au contenu principal" in page


def test_the_switch_goes_back_to_the_same_page_in_english(
    client: Client, case_a: Case, carla: User
) -> None:
    client.force_login(carla)
    url = reverse("case-detail", args=[case_a.pk]) + "?tab=1"
    page = client.get(url).content.decode()
    assert f'name="next" value="{url}"' in page
    assert switch(client, "en", url) == url
    page = client.get(url).content.decode()
    assert '<html lang="en">' in page
    assert "Deadlines" in page
    assert "Timeline" in page
    assert switch(client, "fr", url) == url
    assert "Chronologie" in client.get(url).content.decode()


def test_dates_are_written_in_the_readers_locale(client: Client, case_a: Case, carla: User) -> None:
    client.force_login(carla)
    url = reverse("case-detail", args=[case_a.pk])
    # case_a was registered on 1 April 2026; the OFPRA submission is due 9 April 2026.
    assert "jeu 9 avr. 2026" in client.get(url).content.decode()
    switch(client, "en", url)
    assert "Thu 9 Apr 2026" in client.get(url).content.decode()


def test_form_errors_are_in_the_readers_language(client: Client, case_a: Case, carla: User) -> None:
    client.force_login(carla)
    url = reverse("event-create", args=[case_a.pk])
    data = {"type": "ofpra_decision", "date": "2026-02-30"}
    assert "Cette date n\u2019existe pas" in client.post(url, data).content.decode()
    switch(client, "en", url)
    assert "This date does not exist" in client.post(url, data).content.decode()


def test_an_unsafe_next_url_is_not_followed(client: Client, carla: User) -> None:
    client.force_login(carla)
    assert switch(client, "en", "https://evil.example/") == "/"
