"""Legal staff edit drafts in the admin: bad fields named, reasons kept, packs kept valid."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.forms.models import model_to_dict
from django.test import Client
from rest_framework.test import APIClient

from rules.models import DeadlineRuleVersion, EventType, LookupRow, PackVersion, WarningRule
from rules.packstore import copy_as_draft
from tests.conftest import sign_in_verified


@pytest.fixture
def legal(django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("legal", "legal@example.org", "pw")
    return sign_in_verified(Client(), user)


@pytest.fixture
def draft(asylum_pack: PackVersion) -> PackVersion:
    """A draft copy of the shipped pack: every change is made in a draft."""
    return copy_as_draft(asylum_pack)


def form_data(obj: Any, **changes: Any) -> dict[str, Any]:
    data = {k: ("" if v is None else v) for k, v in model_to_dict(obj).items()}
    for name, value in data.items():
        if isinstance(value, list | dict):
            data[name] = json.dumps(value)
        if isinstance(value, bool) and not value:
            data[name] = ""
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def submission_version(pack: PackVersion) -> DeadlineRuleVersion:
    return DeadlineRuleVersion.objects.get(
        rule__pack_version=pack, rule__key="ofpra_submission", version=2
    )


def url(obj: Any) -> str:
    return f"/admin/rules/{obj._meta.model_name}/{obj.pk}/change/"


def test_an_unknown_trigger_event_is_refused_naming_the_field(
    draft: PackVersion, legal: Client
) -> None:
    version = submission_version(draft)
    response = legal.post(
        url(version), form_data(version, trigger_event="registred", change_reason="typo test")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "no event type 'registred'" in errors["trigger_event"][0]
    version.refresh_from_db()
    assert version.trigger_event == "registration"


def test_overlapping_versions_of_a_rule_are_refused(draft: PackVersion, legal: Client) -> None:
    version = submission_version(draft)
    response = legal.post(
        url(version), form_data(version, effective_from="2021-04-01", change_reason="overlap test")
    )
    errors = response.context["adminform"].form.errors
    assert "together with version 1" in errors["effective_from"][0]


def test_a_change_needs_a_reason_which_the_history_keeps_with_the_user(
    draft: PackVersion, legal: Client
) -> None:
    version = submission_version(draft)
    response = legal.post(url(version), form_data(version, offset=10))
    assert "change_reason" in response.context["adminform"].form.errors

    response = legal.post(
        url(version), form_data(version, offset=10, change_reason="Décret 2026-123")
    )
    assert response.status_code == 302
    record = version.history.latest()
    assert record.offset == 10
    assert record.history_change_reason == "Décret 2026-123"
    assert record.history_user.username == "legal"


def test_an_edit_in_a_draft_changes_the_evaluation_once_published(
    asylum_pack: PackVersion, draft: PackVersion, legal: Client, token_client: APIClient
) -> None:
    case = {
        "procedure": "asylum-reexamination",
        "department": "75",
        "as_of": "2026-05-01",
        "events": [{"type": "registration", "date": "2026-04-01"}],
    }

    def due() -> str:
        result = token_client.post("/api/v1/evaluate", case, format="json").json()
        return str(next(d["due"] for d in result["deadlines"] if d["key"] == "ofpra_submission"))

    assert due() == "2026-04-09"
    version = submission_version(draft)
    legal.post(url(version), form_data(version, offset=10, change_reason="test"))
    assert due() == "2026-04-09"  # a draft is not evaluated
    publisher = User.objects.create_superuser("second", "second@example.org", "pw")
    second = sign_in_verified(Client(), publisher)
    second.post(f"/admin/rules/packversion/{draft.pk}/publish/", {"reason": "Décret test"})
    assert due() == "2026-04-11"


def test_a_lookup_row_for_an_unknown_department_is_refused(
    draft: PackVersion, legal: Client
) -> None:
    row = LookupRow.objects.get(
        table_version__table__pack_version=draft,
        table_version__table__key="competent_prefectures",
        key="88",
    )
    response = legal.post(url(row), form_data(row, value="99", change_reason="test"))
    errors = response.context["adminform"].form.errors
    assert "'99' is not in table 'departments'" in errors["value"][0]


def test_an_invalid_condition_is_refused_naming_its_part(draft: PackVersion, legal: Client) -> None:
    warning = WarningRule.objects.get(pack_version=draft, code="review_horizon")
    when = [{"fact": "event", "where": {"date": {"gt": 5}}}]
    response = legal.post(
        url(warning), form_data(warning, when=json.dumps(when), change_reason="test")
    )
    errors = response.context["adminform"].form.errors
    assert errors["when"][0].startswith("when[0].where.date.gt")
    assert "date" in errors["when"][0]


def test_deleting_an_event_type_that_rules_use_is_refused(
    draft: PackVersion, legal: Client
) -> None:
    event_type = EventType.objects.get(pack_version=draft, code="registration")
    response = legal.post(
        f"/admin/rules/eventtype/{event_type.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert EventType.objects.filter(pk=event_type.pk).exists()
    assert "Nothing was saved" in response.content.decode()


def test_a_draft_copy_published_becomes_the_version_evaluated(
    asylum_pack: PackVersion, legal: Client, token_client: APIClient
) -> None:
    changelist = "/admin/rules/packversion/"
    legal.post(changelist, {"action": "make_draft_copy", "_selected_action": [asylum_pack.pk]})
    draft = PackVersion.objects.get(pack=asylum_pack.pack, number=2)
    assert draft.status == "draft"
    case = json.loads(
        (
            __import__("pathlib").Path(__file__).resolve().parents[2]
            / "rules/packs/asylum-reexamination/api-example.json"
        ).read_text()
    )
    assert (
        token_client.post("/api/v1/evaluate", case, format="json").json()["rule_pack"]["version"]
        == 1
    )

    # The bulk action opens the draft's publish page, which asks for a reason.
    response = legal.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    assert response["Location"] == f"/admin/rules/packversion/{draft.pk}/publish/"
    legal.post(response["Location"], {"reason": "Copy of v1, unchanged"})
    draft.refresh_from_db()
    asylum_pack.refresh_from_db()
    assert (draft.status, asylum_pack.status) == ("published", "retired")
    assert draft.published_by is not None
    assert draft.publish_reason == "Copy of v1, unchanged"
    assert (
        token_client.post("/api/v1/evaluate", case, format="json").json()["rule_pack"]["version"]
        == 2
    )


def test_every_rule_admin_page_renders(
    asylum_pack: PackVersion, draft: PackVersion, legal: Client
) -> None:
    for model in (
        "rulepack",
        "packversion",
        "deadlinerule",
        "deadlineruleversion",
        "lookuptable",
        "lookuptableversion",
        "lookuprow",
        "milestone",
        "outcome",
        "warningrule",
        "scenario",
    ):
        listing = legal.get(f"/admin/rules/{model}/")
        assert listing.status_code == 200, model
    for pack in (asylum_pack, draft):
        for obj in (
            pack,
            submission_version(pack).rule,
            submission_version(pack),
            WarningRule.objects.filter(pack_version=pack).first(),
        ):
            assert legal.get(url(obj)).status_code == 200
