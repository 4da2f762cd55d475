"""Who sees what: a person sees the cases of their own organisation, and nothing else."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from .models import Case, Deadline, Membership


def membership_of(user: Any) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.membership  # type: ignore[no-any-return]
    except Membership.DoesNotExist:
        return None


def visible_cases(user: Any) -> QuerySet[Case]:
    """Cases of the user's organisation; none for anyone outside an organisation."""
    membership = membership_of(user)
    if membership is None:
        return Case.objects.none()
    return Case.objects.filter(organisation_id=membership.organisation_id)


def visible_deadlines(user: Any) -> QuerySet[Deadline]:
    """Deadlines of the user's organisation's cases (the row's copy of it, kept in step)."""
    membership = membership_of(user)
    if membership is None:
        return Deadline.objects.none()
    return Deadline.objects.filter(organisation_id=membership.organisation_id)


def case_for(user: Any, pk: Any) -> Case:
    """The case if the user may see it; 404 otherwise (never reveal that it exists)."""
    try:
        return visible_cases(user).select_related("procedure", "assigned_to").get(pk=int(pk))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
