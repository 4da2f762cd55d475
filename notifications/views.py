"""The alert health page, a caseworker's own alerts, and acknowledgement (web and email link).

The email link is a secret token: opening it (GET) only shows a confirmation button, because
mail scanners and link previews open links on their own; the POST acknowledges.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import actions
from .health import alert_health
from .models import Notification


@require_safe
@never_cache
def alerts_health(request: HttpRequest) -> JsonResponse:
    """200 when the planner runs and due alerts go out, else 503; counts only."""
    health = alert_health()
    return JsonResponse(health, status=200 if health["status"] == "ok" else 503)


@login_required
@require_safe
def alert_list(request: HttpRequest) -> HttpResponse:
    """The signed-in person's staff alerts: unacknowledged first, the latest 100."""
    alerts = (
        Notification.objects.filter(
            recipient_user_id=request.user.pk, status=Notification.Status.SENT
        )
        .select_related("case", "deadline")
        .order_by("acknowledged_at", "-sent_at")[:100]
    )
    return render(request, "notifications/alert_list.html", {"alerts": alerts})


@login_required
@require_POST
def acknowledge_alert(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.select_related("case"), pk=pk)
    if not actions.can_acknowledge(notification, request.user):
        # Exactly as if it did not exist: another organisation's alerts are not revealed.
        raise Http404
    if actions.acknowledge(notification, request.user):
        messages.success(request, _("Alert acknowledged."))
    else:
        messages.info(request, _("This alert was already acknowledged."))
    return HttpResponseRedirect(reverse("notifications:list"))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def acknowledge_by_link(request: HttpRequest, token: str) -> HttpResponse:
    notification = get_object_or_404(
        Notification.objects.select_related("case", "deadline", "acknowledged_by"),
        ack_token=token,
        audience__in=[Notification.Audience.CASEWORKER, Notification.Audience.SUPERVISOR],
    )
    done = False
    if request.method == "POST":
        # The link's holder is its recipient; a signed-in colleague acknowledges as themself.
        user = request.user if request.user.is_authenticated else notification.recipient_user
        done = actions.acknowledge(notification, user)
        notification.refresh_from_db()
    return render(
        request, "notifications/acknowledge.html", {"alert": notification, "just_done": done}
    )
