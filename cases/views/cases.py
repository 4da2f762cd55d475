"""The case list, a case's page, and the forms that open and change a case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rules.services import today

from .. import actions, procedures
from ..access import case_for, visible_cases
from ..dashboard import PENDING, CaseListFilterForm, status_text
from ..forms import CaseForm, EventForm, NewElementForm, show_refusal
from ..history import recent_changes
from ..models import Case, CaseView, Deadline
from ..privacy import personal_data, record_views
from ..reevaluation import is_recomputing, recomputing_versions
from ..scenarios import CaseNotSaved, can_save_scenario, save_case_as_scenario
from .common import PAGE_SIZE, member_or_403


@require_safe
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    membership = member_or_403(request)
    form = CaseListFilterForm(request.GET, membership=membership, everyone_by_default=True)
    # In the order of an index (cases/models.py): open first, soonest next deadline, reference.
    cases = (
        form.filter_cases(visible_cases(request.user))
        .select_related("assigned_to", "procedure")
        .defer("evaluation", "evaluation_errors")
        .order_by(F("state").desc(), F("next_due").asc(nulls_last=True), "reference")
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    language = (get_language() or settings.LANGUAGE_CODE)[:2]
    # The step due on each case's next date, for the page's cases only (one query).
    shown = {case.pk: case for case in page.object_list}
    steps: dict[int, Deadline] = {}
    for deadline in (
        Deadline.objects.filter(
            case_id__in=list(shown),
            status__in=PENDING,
            completed_on__isnull=True,
            due__isnull=False,
        )
        .only("case_id", "due", "label", "texts")
        .order_by("case_id", "due", "id")
    ):
        steps.setdefault(deadline.case_id, deadline)
    names: dict[int, str] = {}
    for case in page.object_list:
        if case.procedure_id not in names:
            names[case.procedure_id] = procedures.procedure_name(case.procedure)
        case.procedure_label = names[case.procedure_id]
        step = steps.get(case.pk)
        # The step in the reader's language (stored with each deadline), not the site's default.
        case.next_label = step.text_in(language, "label") if step is not None else ""
    return render(
        request,
        "cases/case_list.html",
        {
            "form": form,
            "page": page,
            "today": today(),
            "query": form.query_string(),
            "selected_caseworker": form.selected_caseworker(),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    membership = member_or_403(request)
    organisation = membership.organisation
    form = CaseForm(
        request.POST or None, organisation=organisation, initial={"assigned_to": request.user.pk}
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = actions.create_case(
                organisation=organisation, user=request.user, **form.changes()
            )
        except actions.CaseRefused as refused:
            show_refusal(form, refused)
        else:
            messages.success(
                request, _("The file of %(name)s is open.") % {"name": case.applicant_name}
            )
            return redirect("case-detail", pk=case.pk)
    return render(request, "cases/case_form.html", {"form": form, "case": None})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = member_or_403(request)
    case = case_for(request.user, pk)
    form = CaseForm(request.POST or None, instance=case, organisation=membership.organisation)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_case(case, user=request.user, **form.changes())
        except actions.CaseRefused as refused:
            show_refusal(form, refused)
            case.refresh_from_db()
        else:
            messages.success(request, _("The file is updated and its deadlines recomputed."))
            return redirect("case-detail", pk=case.pk)
    return render(request, "cases/case_form.html", {"form": form, "case": case})


VIEWS_SHOWN = 200

# The pack format's confidence levels (rules/engine/pack.py), not procedure knowledge.
CONFIDENCE_TEXT = {
    "certain": gettext_lazy("certain"),
    "likely": gettext_lazy("likely"),
    "unsure": gettext_lazy("unsure, under review"),
}


def deadline_rows(case: Case, day: dt.date) -> list[dict[str, Any]]:
    """Dated deadlines first, soonest first; suspended ones (no due date) last."""
    deadlines = sorted(
        case.deadlines.all(), key=lambda d: (d.due is None, d.due or dt.date.min, d.pk)
    )
    return [
        {
            "deadline": d,
            "status": d.status_on(day),
            "status_text": status_text(d.status_on(day)),
            "confidence": CONFIDENCE_TEXT.get(d.confidence, d.confidence),
        }
        for d in deadlines
    ]


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def outcomes_of(case: Case, evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The pack's outcomes (admissibility, right to remain...) with this case's results."""
    shown = []
    text = procedures.translator(case.procedure.key)
    words = procedures.code_labeller(case.procedure.key)
    for outcome in procedures.outcome_definitions(case.procedure.key):
        result = evaluation.get(outcome.key)
        if result is None:
            continue
        entry: dict[str, Any] = {
            "key": outcome.key,
            "label": text(outcome.label),
            "shape": outcome.shape,
        }
        if outcome.shape == "value":
            values = result if isinstance(result, list) else [result]
            entry["value"] = ", ".join(words(str(v)) for v in values)
        else:
            entry.update(result)
            entry["status_text"] = words(str(result.get("status", "")))
            entry["since_day"] = _day(result.get("since"))
        shown.append(entry)
    return shown


@require_safe
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = member_or_403(request)
    case = case_for(request.user, pk)
    record_views(request.user, [case.pk], CaseView.Through.PAGE)
    event_types = procedures.event_types(case.procedure.key)
    authority_key = procedures.authority_outcome(case.procedure.key)
    day = today()
    text = procedures.translator(case.procedure.key)
    words = procedures.code_labeller(case.procedure.key)
    event_labels = {t.code: text(t.label) for t in event_types}
    evaluation = actions.stored_result(case, get_language() or "")
    rule_pack = evaluation.get("rule_pack") or {}
    authority = evaluation.get(authority_key) if authority_key else None
    # How sure the pack is of the row that names it (older evaluations do not say).
    authority_confidence = (
        CONFIDENCE_TEXT.get(authority.get("confidence", ""), "")
        if isinstance(authority, dict)
        else ""
    )
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "today": day,
            "events": [
                (e, event_labels.get(e.type, e.type), words(e.outcome) if e.outcome else "")
                for e in case.events.all()
            ],
            "event_labels": event_labels,
            "new_elements": list(case.new_elements.all()),
            "deadlines": deadline_rows(case, day),
            "authority": authority,
            "authority_confidence": authority_confidence,
            "has_authority": authority_key is not None,
            "outcomes": outcomes_of(case, evaluation),
            "warnings": evaluation.get("warnings", []),
            # A warning about the review horizon (its condition compares with the pack's
            # reviewed_until: the engine marks it) is an exception to "checked against the law".
            "horizon_warning": next(
                (w for w in evaluation.get("warnings", []) if w.get("horizon")), None
            ),
            "notes": evaluation.get("notes", []),
            "rule_pack": rule_pack,
            "verified_on": _day(rule_pack.get("verified_on")),
            "event_form": EventForm(
                event_types=event_types, outcome_label=words, auto_id="new-event-%s"
            ),
            "element_form": NewElementForm(auto_id="new-element-%s"),
            "changes": recent_changes(case, event_labels),
            "recomputing": is_recomputing(case, recomputing_versions()),
            "can_save_scenario": can_save_scenario(request.user),
            "is_supervisor": membership.is_supervisor,
        },
    )


@require_POST
@login_required
def case_save_scenario(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep this case's facts (no name, phone, email or reference) and results as a scenario."""
    member_or_403(request)
    case = case_for(request.user, pk)
    if not can_save_scenario(request.user):
        raise PermissionDenied
    try:
        scenario = save_case_as_scenario(case, user=request.user)
    except CaseNotSaved as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Saved as the scenario %(name)s of %(procedure)s.")
            % {"name": scenario.name, "procedure": case.procedure.name},
        )
    return redirect("case-detail", pk=case.pk)


def _supervised_case(request: HttpRequest, pk: int) -> Case:
    """A case of the supervisor's organisation (404 elsewhere, 403 for a caseworker)."""
    membership = member_or_403(request)
    case = case_for(request.user, pk)
    if not membership.is_supervisor:
        raise PermissionDenied("supervisors only")
    return case


@require_safe
@login_required
def case_views(request: HttpRequest, pk: int) -> HttpResponse:
    """Who viewed the case's personal data, newest first (supervisors)."""
    case = _supervised_case(request, pk)
    views = case.views.select_related("user")[:VIEWS_SHOWN]
    return render(request, "cases/case_views.html", {"case": case, "views": views})


@require_safe
@login_required
def case_personal_data(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything stored about the case's applicant, as a JSON file (supervisors)."""
    case = _supervised_case(request, pk)
    record_views(request.user, [case.pk], CaseView.Through.DATA_EXPORT)
    response = JsonResponse(personal_data(case), json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="personal-data-case-{case.pk}.json"'
    return response
