"""Nothing forgotten: unsure rules, packs due for review, deadlines no scenario covers and texts
without a translation are listed (page and banner), each with a link, and disappear once fixed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from rules.models import (
    DeadlineRule,
    DeadlineRuleVersion,
    LookupTableVersion,
    OutcomeRule,
    PackTranslation,
    PackVersion,
    Scenario,
)
from rules.packstore import copy_as_draft
from rules.review import STALE, UNCOVERED, UNSURE, UNTRANSLATED, ReviewItem, review_items
from tests.conftest import Amend, sign_in_verified

REVIEW_URL = "/admin/rules/workbench/review/"


@pytest.fixture
def legal(django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("legal", "legal@example.org", "pw")
    return sign_in_verified(Client(), user)


def of(category: str, today: dt.date | None = None) -> list[ReviewItem]:
    return [item for item in review_items(today) if item.category == category]


def covering(keys: list[str], pack: PackVersion) -> Scenario:
    return Scenario.objects.create(
        pack=pack.pack,
        name="covers-" + "-".join(k.replace("_", "-") for k in keys)[:80],
        request={"as_of": "2026-01-10", "events": []},
        expect={"deadlines": {keys[0]: {"due": "2026-01-20"}}, "absent_deadlines": keys[1:]},
    )


@pytest.fixture
def draft(asylum_pack: PackVersion) -> PackVersion:
    """A draft copy of the shipped pack: drafts are reviewed too, and only they change."""
    return copy_as_draft(asylum_pack)


def test_a_version_marked_unsure_is_listed_with_its_page_until_it_is_made_sure(
    draft: PackVersion,
) -> None:
    version = (
        DeadlineRuleVersion.objects.filter(rule__pack_version=draft)
        .exclude(confidence="unsure")
        .first()
    )
    assert version is not None
    before = len(of(UNSURE))
    version.confidence = "unsure"
    version.save()
    listed = [i for i in of(UNSURE) if i.url.endswith(f"/deadlineruleversion/{version.pk}/change/")]
    assert len(listed) == 1
    assert version.rule.key in listed[0].text
    version.confidence = "certain"
    version.save()
    assert len(of(UNSURE)) == before
    assert not [i for i in of(UNSURE) if f"/{version.pk}/change/" in i.url]


def test_a_pack_past_its_review_horizon_or_verified_over_a_year_ago_is_listed(
    draft: PackVersion,
) -> None:
    today = dt.date(2026, 6, 1)

    def stale() -> list[str]:
        return [i.text for i in of(STALE, today) if i.pack_version == str(draft)]

    draft.reviewed_until = dt.date(2026, 5, 31)
    draft.verified_on = dt.date(2025, 5, 1)
    draft.save()
    texts = stale()
    assert len(texts) == 2
    assert any("2026-05-31" in t for t in texts)
    assert any("2025-05-01" in t for t in texts)

    draft.reviewed_until = dt.date(2026, 12, 31)
    draft.verified_on = dt.date(2026, 3, 1)
    draft.save()
    assert stale() == []


def test_a_deadline_no_scenario_covers_is_listed_until_a_scenario_names_it(
    asylum_pack: PackVersion,
) -> None:
    keys = list(DeadlineRule.objects.filter(pack_version=asylum_pack).values_list("key", flat=True))
    Scenario.objects.filter(pack=asylum_pack.pack).delete()
    assert len(of(UNCOVERED)) == len(keys)
    covering(keys[:2], asylum_pack)
    listed = " ".join(i.text for i in of(UNCOVERED))
    assert keys[0] not in listed
    assert keys[1] not in listed
    assert len(of(UNCOVERED)) == len(keys) - 2


def test_a_text_without_a_french_translation_is_listed_until_it_is_translated(
    draft: PackVersion,
) -> None:
    assert of(UNTRANSLATED) == []
    rule = DeadlineRule.objects.get(pack_version=draft, key="ofpra_submission")
    translation = PackTranslation.objects.get(pack_version=draft, language="fr", source=rule.label)
    text = translation.text
    translation.delete()
    listed = of(UNTRANSLATED)
    assert len(listed) == 1
    assert rule.label in listed[0].text
    assert listed[0].url.endswith(f"/packversion/{draft.pk}/change/#translations-group")
    PackTranslation.objects.create(pack_version=draft, language="fr", source=rule.label, text=text)
    assert of(UNTRANSLATED) == []


def test_the_review_page_and_the_admin_banner_list_the_items(
    draft: PackVersion, legal: Client
) -> None:
    draft.reviewed_until = timezone.localdate() - dt.timedelta(days=1)
    draft.save()
    page = legal.get(REVIEW_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Packs to review again" in page
    assert f"/admin/rules/packversion/{draft.pk}/change/" in page
    count = len(review_items())
    index = legal.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="review-banner"' in index
    assert f"{count} items are waiting for review" in index
    assert REVIEW_URL in index


def test_no_banner_when_nothing_is_left_to_review(
    asylum_pack: PackVersion, legal: Client, amend: Amend
) -> None:
    def nothing_unsure(draft: PackVersion) -> None:
        DeadlineRuleVersion.objects.filter(rule__pack_version=draft, confidence="unsure").update(
            confidence="certain"
        )
        for model_versions in (draft.milestones, draft.warnings):
            model_versions.filter(confidence="unsure").update(confidence="certain")
        LookupTableVersion.objects.filter(table__pack_version=draft, confidence="unsure").update(
            confidence="certain"
        )
        OutcomeRule.objects.filter(outcome__pack_version=draft, confidence="unsure").update(
            confidence="certain"
        )
        draft.reviewed_until = timezone.localdate() + dt.timedelta(days=365)
        draft.verified_on = timezone.localdate()
        draft.save()

    published = amend(asylum_pack, nothing_unsure)
    for rule in DeadlineRule.objects.filter(pack_version=published):
        covering([rule.key], published)
    assert review_items() == []
    index = legal.get("/admin/").content.decode()
    assert 'id="review-banner"' not in index


def test_the_banner_is_not_shown_to_people_outside_the_legal_staff(
    asylum_pack: PackVersion, django_user_model: type[User]
) -> None:
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert 'id="review-banner"' not in client.get("/admin/").content.decode()
    assert client.get(REVIEW_URL).status_code == 403


def test_the_review_page_reads_in_french_and_in_english(
    asylum_pack: PackVersion, legal: Client
) -> None:
    Scenario.objects.filter(pack=asylum_pack.pack).delete()
    french = legal.get(REVIEW_URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Règles marquées incertaines" in french
    assert "Aucun scénario ne vérifie le délai ofpra_submission." in french
    english = legal.get(REVIEW_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Deadline rules no scenario covers" in english
