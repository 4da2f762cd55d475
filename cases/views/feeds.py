"""The personal calendar feed (secret URL, no login) and the page that shows and renews it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from rules.services import today

from .. import actions
from ..ical import calendar_for, feed_deadlines
from ..models import CaseView, Membership
from ..privacy import record_views
from .common import member_or_403


@require_safe
@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The secret token is the only credential: calendar services cannot sign in."""
    try:
        membership = Membership.objects.select_related("user", "organisation").get(feed_token=token)
    except Membership.DoesNotExist:
        raise Http404 from None
    if not membership.user.is_active:
        raise Http404
    case_url = request.build_absolute_uri(reverse("case-detail", args=[0])).replace("/0/", "/{pk}/")
    deadlines = list(feed_deadlines(membership))
    record_views(membership.user, (d.case_id for d in deadlines), CaseView.Through.FEED)
    body = calendar_for(
        deadlines,
        name=f"{_('Deadlines')} · {membership.organisation.name}",
        case_url=case_url,
        today=today(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
@login_required
def calendar_settings(request: HttpRequest) -> HttpResponse:
    membership = member_or_403(request)
    feed_url = request.build_absolute_uri(reverse("calendar-feed", args=[membership.feed_token]))
    return render(
        request,
        "cases/calendar.html",
        {
            "membership": membership,
            "feed_url": feed_url,
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
        },
    )


@require_POST
@login_required
def rotate_calendar_link(request: HttpRequest) -> HttpResponse:
    membership = member_or_403(request)
    actions.rotate_feed_token(membership, user=request.user)
    messages.success(
        request,
        _(
            "Your calendar has a new link; the old one no longer works. "
            "Subscribe again with the link below."
        ),
    )
    return redirect("calendar-settings")
