"""My deadlines: overdue, today, next 7 days, later, and suspended ones apart."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from rules.services import today

from .. import procedures
from ..dashboard import (
    BUCKETS,
    CountedPaginator,
    DeadlineFilterForm,
    bucket_counts,
    listed_count,
    pending_deadlines,
    rows,
    rows_between,
    with_status,
)
from ..reevaluation import recomputing_versions
from .common import PAGE_SIZE, member_or_403

SUSPENDED_SHOWN = 20


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = member_or_403(request)
    day = today()
    form = DeadlineFilterForm(request.GET, membership=membership)
    pending = pending_deadlines(form, day)
    counts = bucket_counts(pending, day)
    status: str = (form.cleaned_data.get("status") if form.is_valid() else "") or ""
    page = CountedPaginator(
        with_status(pending, form, day), PAGE_SIZE, listed_count(counts, status)
    ).get_page(request.GET.get("page"))
    descriptions = procedures.deadline_descriptions()
    running = recomputing_versions()
    # Suspended deadlines have no due date: listed apart unless a status is chosen. (Ordered by
    # the due date too, all empty: the order of the pending rows' index, read 20 rows.)
    suspended = (
        []
        if status
        else rows(
            rows_between(
                pending.filter(due__isnull=True).order_by("due", "case_reference", "key"),
                0,
                SUSPENDED_SHOWN,
            ),
            day,
            descriptions,
            running,
        )
    )
    return render(
        request,
        "cases/dashboard.html",
        {
            "form": form,
            "membership": membership,
            "selected_caseworker": form.selected_caseworker(),
            "today": day,
            "buckets": [
                {
                    "key": key,
                    "label": label,
                    "count": counts[key],
                    "query": form.query_string(status=key),
                    "current": key == status,
                }
                for key, label in BUCKETS
            ],
            "all_query": form.query_string(status=""),
            "status": status,
            "page": page,
            "rows": rows(page.object_list, day, descriptions, running),
            "recomputing": bool(running),
            "suspended": suspended,
            "suspended_more": counts["suspended"] > len(suspended) and not status,
            "query": form.query_string(),
        },
    )
