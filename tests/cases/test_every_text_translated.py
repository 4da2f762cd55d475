"""Every text a reader sees is in their language, and every date reads one way only.

The app's own texts: every msgid the code and templates use has a French translation, and the
French render of every caseworker page, the CSV, the calendar feed, every alert template and the
API holds none of the app's English sentences (and the English render none of the French ones).
The pack's texts: every text of the published pack (the shipped version 2, as `make run`
publishes it) a reader sees has a French translation, and every code it shows has words.
Dates: the month in words, never 04/08/2026.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize
from rest_framework.test import APIClient

from cases.models import Membership, Organisation
from notifications.messages import render_template, written_date
from notifications.models import MessageTemplate, Notification
from rules.engine.explain import PHRASES
from rules.engine.reader_texts import reader_texts
from rules.models import PackVersion
from rules.packstore import definition, pack_dict
from rules.services import today
from tests.cases.personas import make_case

ROOT = Path(__file__).resolve().parents[2]
APPS = ("cases", "notifications", "project", "rules")
CATALOGUES = (
    ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po",
    ROOT / "notifications" / "locale" / "fr" / "LC_MESSAGES" / "django.po",
)


# Dates a reader could misread: 04/08/2026, 4/8/26, 04-08-2026 (ISO 2026-04-08 is not one), and
# the month-first English "April 8, 2026".
NUMERIC_DATE = re.compile(r"(?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?![\d/.-])")
MONTH_FIRST = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
)
# Words §7.7 replaces in French (app texts and the published pack's translations).
NOT_FRENCH_VOCABULARY = (
    re.compile(r"\bbase légale\b", re.I),
    re.compile(r"\bdemandeur\b", re.I),
    re.compile(r"\bissue\b", re.I),
    re.compile(r"(?<!\d)1 jours\b"),
    re.compile(r"\bnon comptés\b"),
)


# -- The app's catalogue ------------------------------------------------------------------------


def _unquote(block: str) -> str:
    return "".join(json.loads(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', block))


def catalogue() -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy), from the French .po files (parsed here, no polib)."""
    entries: dict[str, tuple[str, bool]] = {}
    pattern = re.compile(
        r"^(?:msgctxt ((?:\".*\"\n)+))?msgid ((?:\".*\"\n)+)(?:msgid_plural (?:\".*\"\n)+)?"
        r"(?:msgstr|msgstr\[0\]) ((?:\".*\"\n?)+)",
        re.M,
    )
    for path in CATALOGUES:
        for entry in path.read_text(encoding="utf-8").split("\n\n"):
            found = pattern.search(entry + "\n")
            if found is None:
                continue
            msgid = _unquote(found.group(2))
            if msgid:
                entries[msgid] = (_unquote(found.group(3)), "#, fuzzy" in entry)
    return entries


def used_msgids(tmp_path: Path) -> set[str]:
    """Every msgid the app's code and templates use, extracted as makemessages does."""
    sources: list[str] = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*")):
            if path.suffix == ".py":
                sources.append(str(path))
            elif path.suffix in (".html", ".txt") and "templates" in path.parts:
                converted = tmp_path / f"{len(sources)}.py"
                source = path.read_text(encoding="utf-8")
                converted.write_text(templatize(source, origin=str(path)), encoding="utf-8")
                sources.append(str(converted))
    pot = tmp_path / "used.pot"
    keywords = [
        "gettext_noop",
        "gettext_lazy",
        "ngettext_lazy:1,2",
        "pgettext:1c,2",
        "npgettext:1c,2,3",
        "pgettext_lazy:1c,2",
        "npgettext_lazy:1c,2,3",
    ]
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            *(f"--keyword={k}" for k in keywords),
            "--output",
            str(pot),
            *sources,
        ],
        check=True,
    )
    text = pot.read_text(encoding="utf-8")
    return {
        _unquote(block)
        for block in re.findall(r"^msgid ((?:\".*\"\n)+)", text, re.M)
        if _unquote(block)
    }


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_it_has_a_french_translation_for_every_app_text_in_use(tmp_path: Path) -> None:
    known = catalogue()
    used = used_msgids(tmp_path)
    assert len(used) > 200
    missing = sorted(m for m in used if m not in known)
    empty = sorted(m for m in used if m in known and not known[m][0])
    fuzzy = sorted(m for m in used if m in known and known[m][1])
    assert missing == [], "add to locale/fr/LC_MESSAGES/django.po and run msgfmt"
    assert empty == []
    assert fuzzy == []


def test_it_uses_the_french_vocabulary_of_the_review_in_app_texts_and_sentences() -> None:
    french = [text for text, _ in catalogue().values()]
    french += list(PHRASES["fr"].values())
    french += [
        path.read_text(encoding="utf-8")
        for path in (ROOT / "notifications" / "shipped_messages" / "fr").iterdir()
    ]
    for text in french:
        for word in NOT_FRENCH_VOCABULARY:
            assert not word.search(text), f"{word.pattern} in {text!r}"


def test_the_published_packs_french_uses_the_vocabulary_of_the_review(
    shipped_pack: PackVersion,
) -> None:
    for text in definition(shipped_pack).translations.get("fr", {}).values():
        for word in NOT_FRENCH_VOCABULARY:
            assert not word.search(text), f"{word.pattern} in {text!r}"


# -- Pages, exports, feed, alerts and API in each language -------------------------------------


def visible_text(page: str) -> str:
    """What a reader sees or hears: text and the attributes read aloud or shown."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    attributes = re.findall(r'\b(?:aria-label|title|placeholder|alt|data-label)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *attributes]))


def giveaways(language: str) -> list[str]:
    """App sentences that betray the other language: English msgids on a French page, French
    msgstrs on an English one. Language names are left out (the switch shows them as such)."""
    names = {str(name) for _, name in settings.LANGUAGES} | {"Français", "English"}
    found = []
    for msgid, (msgstr, _) in catalogue().items():
        text = msgid if language == "fr" else msgstr
        if msgid == msgstr or "%(" in text or "{" in text or text in names:
            continue
        # Single short words are too common to betray anything (Date, Note, SMS...).
        if len(text.split()) > 1 or len(text) >= 7:
            found.append(text)
    return found


def pack_giveaways(pack: PackVersion, language: str) -> list[str]:
    """Pack texts that betray the other language: an English text the pack translates, on a
    French page; a French translation, on an English page (short codes' words left out)."""
    french = definition(pack).translations.get("fr", {})
    pairs = [(en, fr) for en, fr in french.items() if en != fr]
    found = [en if language == "fr" else fr for en, fr in pairs]
    return [text for text in found if len(text) >= 12 and "{" not in text]


def assert_in_language(
    text: str,
    language: str,
    where: str,
    *,
    allowed: tuple[str, ...] = (),
    forbidden: list[str] | tuple[str, ...] = (),
) -> None:
    for known in allowed:
        text = text.replace(known, " ")
    for sentence in [*giveaways(language), *forbidden]:
        pattern = r"(?<![\w\u2019'])" + re.escape(sentence) + r"(?![\w\u2019'])"
        assert not re.search(pattern, text), f"{sentence!r} on the {language} {where}"
    dates = NUMERIC_DATE.findall(text) + MONTH_FIRST.findall(text)
    assert dates == [], f"dates a reader could misread on the {language} {where}: {dates}"


def citations(pack: PackVersion) -> tuple[str, ...]:
    """The pack's legal bases: citations, whose names stay in French in every language
    ("Code de procédure civile art. 642")."""
    found: set[str] = set()

    def walk(value: Any, name: str = "") -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, str(key))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, name)
        elif isinstance(value, str) and name.endswith("basis") and value:
            found.add(value)

    walk(pack_dict(pack))
    return tuple(sorted(found, key=len, reverse=True))


@pytest.fixture
def story(shipped_pack: PackVersion, org_a: Organisation, carla: User) -> dict[str, Any]:
    """Files that show every kind of text: deadlines in every bucket, met, flagged and
    suspended ones, decisions with outcomes, outcomes with statuses, warnings, an alert."""
    day = today()
    decided = make_case(
        org_a,
        carla,
        shipped_pack,
        reference="A-101",
        applicant_name="Amina Diallo",
        department="57",
        events=[
            ("final_rejection", dt.date(2025, 11, 3)),
            ("prefecture_presentation", dt.date(2026, 3, 2)),
            ("registration", dt.date(2026, 3, 4)),
            ("ofpra_submission", dt.date(2026, 3, 10)),
            ("ofpra_admissibility_decision", dt.date(2026, 3, 16), "inadmissible"),
        ],
    )
    make_case(
        org_a,
        carla,
        shipped_pack,
        reference="A-102",
        applicant_name="Olga Ivanova",
        events=[
            ("registration", day - dt.timedelta(days=3)),
        ],
    )
    suspended = make_case(
        org_a,
        carla,
        shipped_pack,
        reference="A-103",
        applicant_name="Tariq Aziz",
        events=[
            ("registration", dt.date(2026, 3, 4)),
            ("ofpra_submission", dt.date(2026, 3, 10)),
            ("ofpra_decision", dt.date(2026, 4, 28), "rejected"),
            ("decision_made_available", dt.date(2026, 5, 4)),
            ("legal_aid_requested", dt.date(2026, 5, 22)),
        ],
    )
    alert = Notification.objects.create(
        case=decided,
        deadline=decided.deadlines.order_by("due").first(),
        deadline_key="ofpra_submission",
        due=dt.date(2026, 3, 12),
        kind=Notification.Kind.OVERDUE,
        lead_days=None,
        channel=Notification.Channel.EMAIL,
        audience=Notification.Audience.CASEWORKER,
        recipient_user=carla,
        recipient_key=f"user:{carla.pk}",
        language="fr",
        send_after=dt.datetime(2026, 3, 13, 8, tzinfo=dt.UTC),
        status=Notification.Status.SENT,
        sent_at=dt.datetime(2026, 3, 13, 8, 1, tzinfo=dt.UTC),
    )
    event = decided.events.get(type="ofpra_admissibility_decision")
    element = decided.new_elements.create(date=dt.date(2026, 1, 5))
    return {
        "decided": decided,
        "suspended": suspended,
        "event": event,
        "element": element,
        "alert": alert,
    }


def page_urls(story: dict[str, Any]) -> dict[str, str]:
    case, event, element = story["decided"], story["event"], story["element"]
    return {
        "dashboard": reverse("dashboard"),
        "dashboard, suspended": reverse("dashboard") + "?status=suspended",
        "case list": reverse("case-list"),
        "case page": reverse("case-detail", args=[case.pk]),
        "suspended case page": reverse("case-detail", args=[story["suspended"].pk]),
        "new file form": reverse("case-create"),
        "file form": reverse("case-edit", args=[case.pk]),
        "event form": reverse("event-create", args=[case.pk]),
        "event correction form": reverse("event-edit", args=[case.pk, event.pk]),
        "event deletion": reverse("event-delete", args=[case.pk, event.pk]),
        "new element form": reverse("element-create", args=[case.pk]),
        "element correction form": reverse("element-edit", args=[case.pk, element.pk]),
        "calendar page": reverse("calendar-settings"),
        "alerts page": reverse("notifications:list"),
        "acknowledgement page": reverse("notifications:ack", args=[story["alert"].ack_token]),
    }


@pytest.fixture
def reader(client: Client, carla: User) -> Client:
    client.force_login(carla)
    return client


def read_in(client: Client, language: str, url: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.get("Content-Language") == language
    return response.getvalue().decode()  # the CSV export is streamed


@pytest.mark.parametrize("language", ["fr", "en"])
def test_it_shows_every_caseworker_page_in_the_readers_language(
    reader: Client, story: dict[str, Any], shipped_pack: PackVersion, language: str
) -> None:
    in_other_language = pack_giveaways(shipped_pack, language)
    assert in_other_language
    for name, url in page_urls(story).items():
        page = read_in(reader, language, url)
        assert f'<html lang="{language}">' in page
        assert_in_language(
            visible_text(page),
            language,
            name,
            allowed=citations(shipped_pack),
            forbidden=in_other_language,
        )
    client = Client()
    page = read_in(client, language, reverse("login"))
    assert_in_language(visible_text(page), language, "login page")


def test_it_shows_the_fixed_texts_in_french(reader: Client, story: dict[str, Any]) -> None:
    case = read_in(reader, "fr", reverse("case-detail", args=[story["decided"].pk]))
    text = visible_text(case)
    assert "Personne accompagnée" in text
    assert "Sens de la décision" in text
    assert "Fondement juridique" in text
    assert "jusqu'à la décision de l'OFPRA" in text or "a pris fin" in text.lower()
    assert "16 mars 2026" in text  # timeline
    dashboard = visible_text(read_in(reader, "fr", reverse("dashboard")))
    # What to do: the rule's description in French (the pack's translations).
    assert "doit être envoyée par courrier à l'OFPRA" in dashboard
    assert "must be posted" not in dashboard


def test_it_shows_the_fixed_texts_in_english(reader: Client, story: dict[str, Any]) -> None:
    files = visible_text(read_in(reader, "en", reverse("case-list")))
    # The next step of a file in English, not the French stored for the site's default.
    assert "Sending the request to OFPRA" in files
    assert "Envoi de la demande" not in files
    case = visible_text(read_in(reader, "en", reverse("case-detail", args=[story["decided"].pk])))
    assert "Until ofpra decision" not in case
    assert "16 Mar 2026" in case


@pytest.mark.parametrize("language", ["fr", "en"])
def test_it_exports_the_csv_and_the_feed_in_the_readers_language(
    reader: Client, story: dict[str, Any], shipped_pack: PackVersion, carla: User, language: str
) -> None:
    csv = read_in(reader, language, reverse("deadlines-csv"))
    in_other_language = pack_giveaways(shipped_pack, language)
    allowed = citations(shipped_pack)
    assert_in_language(csv, language, "CSV export", allowed=allowed, forbidden=in_other_language)
    description = (
        "doit être envoyée par courrier" if language == "fr" else "must be posted to OFPRA"
    )
    assert description in csv
    token = Membership.objects.get(user=carla).feed_token
    feed = read_in(Client(), language, reverse("calendar-feed", args=[token]))
    unfolded = feed.replace("\r\n ", "").replace("\\,", ",").replace("\\;", ";")
    assert_in_language(
        unfolded, language, "calendar feed", allowed=allowed, forbidden=in_other_language
    )
    step = "Envoi de la demande à l'OFPRA" if language == "fr" else "Sending the request to OFPRA"
    assert step in unfolded


def alert_context(language: str, days_left: int) -> dict[str, Any]:
    due = dt.date(2026, 4, 8)
    return {
        "due": due,
        "due_date": written_date(due, language),
        "due_date_short": written_date(due, language, year=False),
        "days_left": days_left,
        "days_overdue": max(0, -days_left),
        "lead_days": max(0, days_left),
        "kind": "reminder",
        "case_reference": "A-101",
        "deadline_label": "Envoi de la demande à l'OFPRA"
        if language == "fr"
        else "Sending the request to OFPRA",
        "legal_basis": "CESEDA R531-36",
        "case_url": "https://delais.example.org/cases/1/",
        "ack_url": "https://delais.example.org/alerts/ack/t/",
        "alerts_url": "https://delais.example.org/alerts/",
        "recipient_name": "Carla Dumas",
        "caseworker_name": "Carla Dumas",
        "caseworker_told_on": written_date(dt.date(2026, 4, 9), language),
        # Staff alerts carry the warnings that concern the deadline (applicant ones ignore them).
        "warnings": [
            {
                "code": "review_horizon",
                "title": "Droit non vérifié au-delà de la date de revue"
                if language == "fr"
                else "Law after the review date not checked",
                "message": "Vérifiez avant de vous fier à ce résultat."
                if language == "fr"
                else "Check before relying on this result.",
            }
        ],
    }


@pytest.mark.django_db
def test_it_writes_every_alert_template_in_its_language_with_dates_in_words() -> None:
    templates = list(MessageTemplate.objects.filter(reviewed=True))
    assert {t.language for t in templates} >= {"fr", "en"}
    for template in templates:
        for days_left in (-2, 0, 1, 3):
            message = render_template(template, alert_context(template.language, days_left))
            where = f"{template.name} {template.channel} alert"
            for text in (message.subject, message.text, visible_text(message.html)):
                assert_in_language(text, template.language, where)
                assert "{{" not in text
                assert "{%" not in text
            if days_left != 0:  # "today" names no date
                assert (
                    written_date(dt.date(2026, 4, 8), template.language)
                    in (message.text + message.subject)
                    or written_date(dt.date(2026, 4, 8), template.language, year=False)
                    in message.text
                )


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("key", "type", "code", "status", "url", "procedure", "language"):
                yield from strings_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)


def test_it_answers_the_api_in_the_language_asked_for(
    shipped_pack: PackVersion, token_client: APIClient
) -> None:
    pack = definition(shipped_pack)
    # Codes stay codes (the words for them are in status_label and outcome_labels).
    codes = {o for e in pack.event_types for o in e.outcomes} | {
        str(v)
        for outcome in pack.outcomes
        for rule in outcome.rules
        for v in (rule.result if isinstance(rule.result, list) else [rule.result])
    }
    french_of = pack.translations.get("fr", {})
    # A text whose French is itself (a name: "Légifrance, Code de l'entrée...") reads the same.
    texts = {t for t in reader_texts(pack) if t not in codes and french_of.get(t) != t}
    body = json.loads(
        (ROOT / "rules" / "packs" / "asylum-reexamination" / "api-example.json").read_text()
    )
    for extra in (
        {
            "events": [
                *body["events"],
                {"type": "ofpra_decision", "date": "2026-05-20", "outcome": "rejected"},
            ]
        },
        {},
    ):
        french = token_client.post(
            "/api/v1/evaluate", {**body, **extra, "language": "fr"}, format="json"
        )
        assert french.status_code == 200, french.json()
        assert french["Content-Language"] == "fr"
        english_left = [s for s in strings_of(french.json()) if s in texts]
        assert english_left == []
        for text in strings_of(french.json()):
            dates = NUMERIC_DATE.findall(text) + MONTH_FIRST.findall(text)
            assert dates == [], text


# -- The pack's texts ---------------------------------------------------------------------------


def test_it_has_a_french_translation_for_every_text_of_the_published_pack(
    shipped_pack: PackVersion,
) -> None:
    pack = definition(shipped_pack)
    french = pack.translations.get("fr", {})
    missing = sorted(t for t in reader_texts(pack) if not french.get(t))
    assert missing == [], "translate these in the pack's translations.fr"


def test_it_has_words_for_every_code_the_published_pack_shows(shipped_pack: PackVersion) -> None:
    pack = definition(shipped_pack)
    codes = {
        *(o for e in pack.event_types for o in e.outcomes),
        *(
            str(v)
            for outcome in pack.outcomes
            for rule in outcome.rules
            for v in (rule.result if isinstance(rule.result, list) else [rule.result])
            if v
        ),
        *(w.code for w in pack.warnings),
    }
    english = pack.translations.get("en", {})
    french = pack.translations.get("fr", {})
    no_english = sorted(c for c in codes if not english.get(c))
    no_french = sorted(c for c in codes if not french.get(c))
    assert (no_english, no_french) == ([], [])


def test_the_french_for_a_code_comes_from_the_packs_translations(
    reader: Client,
    story: dict[str, Any],
    shipped_pack: PackVersion,
    amend: Any,
    celery_eager: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Outcome codes read in French from the published pack's translations, keyed by the code:
    a translation legal staff change shows once their version is published."""

    def reword(draft: PackVersion) -> None:
        translation_row = draft.translations.get(language="fr", source="rejected")
        translation_row.text = "rejet de la demande"
        translation_row.save()

    form = visible_text(read_in(reader, "fr", reverse("event-create", args=[story["decided"].pk])))
    assert "irrecevable" in form
    assert "recevable" in form
    assert "protection accordée" in form
    assert "inadmissible" not in form
    case = visible_text(read_in(reader, "fr", reverse("case-detail", args=[story["decided"].pk])))
    assert re.search(r"—\s+irrecevable", case)
    with django_capture_on_commit_callbacks(execute=True):
        amend(shipped_pack, reword)  # published: open cases are evaluated again
    with translation.override("fr"):
        form = visible_text(
            read_in(reader, "fr", reverse("event-create", args=[story["decided"].pk]))
        )
    assert "rejet de la demande" in form
