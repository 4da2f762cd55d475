"""Published and retired pack versions are read-only; every change is made in a draft."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from rules.models import (
    DeadlineRule,
    DeadlineRuleVersion,
    EventType,
    LookupRow,
    PackVersion,
    ReadOnlyVersion,
)
from rules.packstore import copy_as_draft
from tests.conftest import sign_in_verified


@pytest.fixture
def legal(django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("legal", "l@example.org", "pw")
    return sign_in_verified(Client(), user)


def submission(pack: PackVersion) -> DeadlineRuleVersion:
    return DeadlineRuleVersion.objects.get(
        rule__pack_version=pack, rule__key="ofpra_submission", version=2
    )


def test_a_published_record_cannot_be_saved_or_deleted(asylum_pack: PackVersion) -> None:
    version = submission(asylum_pack)
    version.offset = 10
    with pytest.raises(ReadOnlyVersion) as refused:
        version.save()
    assert "version 1 is published: its records cannot be changed" in str(refused.value)
    with pytest.raises(ReadOnlyVersion):
        EventType.objects.get(pack_version=asylum_pack, code="registration").delete()
    row = LookupRow.objects.filter(table_version__table__pack_version=asylum_pack).first()
    assert row is not None
    with pytest.raises(ReadOnlyVersion):
        row.save()
    asylum_pack.name = "renamed"
    with pytest.raises(ReadOnlyVersion):
        asylum_pack.save()
    with pytest.raises(ReadOnlyVersion):
        PackVersion.objects.get(pk=asylum_pack.pk).delete()
    assert submission(asylum_pack).offset == 8


def test_a_draft_record_can_be_changed(asylum_pack: PackVersion) -> None:
    draft = copy_as_draft(asylum_pack)
    version = submission(draft)
    version.offset = 10
    version.save()
    assert submission(draft).offset == 10
    assert submission(asylum_pack).offset == 8


def test_the_admin_shows_a_published_record_read_only_with_a_message(
    asylum_pack: PackVersion, legal: Client
) -> None:
    rule = DeadlineRule.objects.get(pack_version=asylum_pack, key="ofpra_submission")
    page = legal.get(f"/admin/rules/deadlinerule/{rule.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'name="_save"' not in text
    assert "version 1 is published: its records cannot be changed. Copy it as a new draft" in text
    assert "New version of this rule" not in text

    version = submission(asylum_pack)
    refused = legal.post(
        f"/admin/rules/deadlineruleversion/{version.pk}/change/",
        {"offset": 10, "change_reason": "x"},
    )
    assert refused.status_code == 403
    deleted = legal.post(f"/admin/rules/deadlineruleversion/{version.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert submission(asylum_pack).offset == 8


def test_new_records_can_only_be_added_to_a_draft(asylum_pack: PackVersion, legal: Client) -> None:
    draft = copy_as_draft(asylum_pack)
    form = legal.get("/admin/rules/eventtype/add/").context["adminform"].form
    choices = list(form.fields["pack_version"].queryset)
    assert choices == [draft]


def test_the_lists_show_each_records_pack_version_and_its_status(
    asylum_pack: PackVersion, legal: Client
) -> None:
    copy_as_draft(asylum_pack)
    text = legal.get("/admin/rules/deadlinerule/?q=ofpra_submission").content.decode()
    assert "<strong>v2 draft</strong>" in text
    assert "v1 published (read-only)" in text
    # The draft comes first.
    assert text.index("v2 draft") < text.index("v1 published")
    filtered = legal.get(
        "/admin/rules/deadlineruleversion/?rule__pack_version__status__exact=draft"
    ).content.decode()
    assert "v1 published" not in filtered
