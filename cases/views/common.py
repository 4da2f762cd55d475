"""What every view of the app needs: the member's organisation, or a 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from ..access import membership_of
from ..models import Membership

PAGE_SIZE = 25


def member_or_403(request: HttpRequest) -> Membership:
    """The signed-in person's membership; people outside any organisation see no case at all."""
    membership = membership_of(request.user)
    if membership is None:
        raise PermissionDenied("not a member of an organisation")
    return membership
