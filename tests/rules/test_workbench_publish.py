"""Four eyes: a draft is published by a second person, with a reason, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import IntegrityError, transaction
from django.test import Client

from rules import workbench
from rules.models import DeadlineRuleVersion, PackVersion
from rules.packstore import copy_as_draft
from tests.conftest import sign_in_verified


@pytest.fixture
def lawyer(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_superuser("lawyer", "lawyer@example.org", "pw")


@pytest.fixture
def reviewer(django_user_model: type[User]) -> User:
    """Staff with the publish permission, not a superuser."""
    user = django_user_model.objects.create_user("reviewer", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rules",
            codename__in=["publish_packversion", "view_packversion", "change_packversion"],
        )
    )
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def edited_draft(asylum_pack: PackVersion, lawyer: User) -> PackVersion:
    """A draft in which the lawyer set the OFPRA submission limit to 10 days."""
    draft = copy_as_draft(asylum_pack)
    version = DeadlineRuleVersion.objects.get(
        rule__pack_version=draft, rule__key="ofpra_submission", version=2
    )
    workbench.add_version(
        version,
        effective_from=dt.date(2026, 4, 5),
        changes={"offset": 10},
        user=lawyer,
        reason="Décret 2026-xx",
    )
    draft.refresh_from_db()
    return draft


def statuses(pack: PackVersion) -> list[tuple[int, str]]:
    return list(
        PackVersion.objects.filter(pack=pack.pack)
        .order_by("number")
        .values_list("number", "status")
    )


def test_the_last_editor_cannot_publish_alone_and_a_second_person_can(
    asylum_pack: PackVersion, edited_draft: PackVersion, lawyer: User, reviewer: User
) -> None:
    with pytest.raises(workbench.PublishRefused) as refused:
        workbench.publish(edited_draft, user=lawyer, reason="Décret 2026-xx")
    assert refused.value.sentences == [
        "You made the last change to this draft: another person with the publish permission "
        "must check it and publish it."
    ]
    assert statuses(asylum_pack) == [(1, "published"), (2, "draft")]

    published = workbench.publish(edited_draft, user=reviewer, reason="Décret 2026-xx")
    assert statuses(asylum_pack) == [(1, "retired"), (2, "published")]
    assert (published.published_by, published.publish_reason, published.published_alone) == (
        reviewer,
        "Décret 2026-xx",
        False,
    )
    record = published.history.latest()
    assert (record.history_user, record.history_change_reason) == (reviewer, "Décret 2026-xx")


def test_the_self_publish_setting_lets_the_last_editor_publish_and_the_history_says_so(
    asylum_pack: PackVersion, edited_draft: PackVersion, lawyer: User, settings: Any
) -> None:
    settings.RULES_ALLOW_SELF_PUBLISH = True
    published = workbench.publish(edited_draft, user=lawyer, reason="Décret 2026-xx")
    assert published.published_alone is True
    assert "published alone by its last editor" in published.publish_reason
    assert "published alone" in published.history.latest().history_change_reason


def test_publishing_needs_the_permission_a_reason_and_a_draft(
    asylum_pack: PackVersion, edited_draft: PackVersion, django_user_model: type[User]
) -> None:
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    with pytest.raises(workbench.PublishRefused) as refused:
        workbench.publish(edited_draft, user=clerk, reason="  ")
    assert refused.value.sentences == [
        "You do not have the permission to publish rule pack versions.",
        "Give the reason for publishing (it is kept in the history).",
    ]
    boss = django_user_model.objects.create_superuser("boss", "b@example.org", "pw")
    with pytest.raises(workbench.PublishRefused) as refused:
        workbench.publish(asylum_pack, user=boss, reason="again")
    assert refused.value.sentences == [
        "asylum-reexamination version 1 is published, not a draft: only a draft can be published."
    ]


def test_an_invalid_draft_is_not_published(
    asylum_pack: PackVersion, django_user_model: type[User]
) -> None:
    draft = copy_as_draft(asylum_pack)
    DeadlineRuleVersion.objects.filter(
        rule__pack_version=draft, rule__key="ofpra_submission", version=2
    ).update(trigger_event="registred")
    boss = django_user_model.objects.create_superuser("boss", "b@example.org", "pw")
    with pytest.raises(workbench.PublishRefused) as refused:
        workbench.publish(draft, user=boss, reason="typo")
    assert "no event type 'registred'" in refused.value.sentences[0]
    assert statuses(asylum_pack) == [(1, "published"), (2, "draft")]


def test_there_is_never_a_second_published_version_of_a_pack(
    asylum_pack: PackVersion,
) -> None:
    draft = copy_as_draft(asylum_pack)
    with pytest.raises(IntegrityError), transaction.atomic():
        PackVersion.objects.filter(pk=draft.pk).update(status=PackVersion.Status.PUBLISHED)
    assert statuses(asylum_pack) == [(1, "published"), (2, "draft")]


def test_published_hooks_run_on_commit_with_the_version_id(
    asylum_pack: PackVersion,
    edited_draft: PackVersion,
    reviewer: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called: list[int] = []
    monkeypatch.setattr(workbench, "after_publish", [called.append])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workbench.publish(edited_draft, user=reviewer, reason="Décret 2026-xx")
    assert called == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert called == [edited_draft.pk]


def test_a_refused_publish_calls_no_hook(
    edited_draft: PackVersion,
    lawyer: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called: list[int] = []
    monkeypatch.setattr(workbench, "after_publish", [called.append])
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(workbench.PublishRefused),
    ):
        workbench.publish(edited_draft, user=lawyer, reason="alone")
    assert (called, callbacks) == ([], [])


def test_the_publish_page_shows_the_checks_and_refuses_then_accepts_in_the_admin(
    asylum_pack: PackVersion, edited_draft: PackVersion, lawyer: User, reviewer: User
) -> None:
    url = f"/admin/rules/packversion/{edited_draft.pk}/publish/"
    alone = sign_in_verified(Client(), lawyer)
    page = alone.get(url).content.decode()
    assert "The draft is a valid pack." in page
    assert f"/admin/cases/impactrun/?pack_version={edited_draft.pk}" in page
    assert "Reason for publishing" in page
    refused = alone.post(url, {"reason": "Décret 2026-xx"})
    assert refused.status_code == 200
    assert "You made the last change to this draft" in refused.content.decode()

    second = sign_in_verified(Client(), reviewer)
    accepted = second.post(url, {"reason": "Décret 2026-xx"})
    assert accepted.status_code == 302
    assert statuses(asylum_pack) == [(1, "retired"), (2, "published")]
