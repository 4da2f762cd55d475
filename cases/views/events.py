"""Recording, correcting and deleting a case's events and new elements, through cases/actions.py.

On an error (a bad date, a missing outcome, the rules refusing the facts) the form comes back
with everything that was typed and the reason, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import actions, procedures
from ..access import case_for
from ..forms import EventForm, NewElementForm, show_refusal
from ..models import Case, CaseEvent, NewElement
from .common import member_or_403

FORM_METHODS = ["GET", "HEAD", "POST"]


def _event_of(case: Case, event_pk: int) -> CaseEvent:
    try:
        return case.events.get(pk=event_pk)
    except CaseEvent.DoesNotExist:
        raise Http404 from None


def _element_of(case: Case, element_pk: int) -> NewElement:
    try:
        return case.new_elements.get(pk=element_pk)
    except NewElement.DoesNotExist:
        raise Http404 from None


def _done(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("case-detail", pk=case.pk)


def _form_page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, context)


@require_http_methods(FORM_METHODS)
@login_required
def event_create(request: HttpRequest, pk: int) -> HttpResponse:
    member_or_403(request)
    case = case_for(request.user, pk)
    form = EventForm(
        request.POST or None,
        event_types=procedures.event_types(case.procedure.key),
        outcome_label=procedures.code_labeller(case.procedure.key),
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_event(case, user=request.user, **form.cleaned_data)
        except actions.CaseRefused as refused:
            show_refusal(form, refused)
        else:
            return _done(request, case, _("Event recorded; the deadlines are up to date."))
    return _form_page(request, "cases/event_form.html", case=case, form=form, event=None)


@require_http_methods(FORM_METHODS)
@login_required
def event_edit(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    member_or_403(request)
    case = case_for(request.user, pk)
    event = _event_of(case, event_pk)
    form = EventForm(
        request.POST or None,
        initial=EventForm.initial_for(event),
        event_types=procedures.event_types(case.procedure.key),
        outcome_label=procedures.code_labeller(case.procedure.key),
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_event(event, user=request.user, **form.cleaned_data)
        except actions.CaseRefused as refused:
            show_refusal(form, refused)
            event.refresh_from_db()
        else:
            return _done(request, case, _("Event corrected; the deadlines are up to date."))
    return _form_page(request, "cases/event_form.html", case=case, form=form, event=event)


@require_http_methods(FORM_METHODS)
@login_required
def event_delete(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    member_or_403(request)
    case = case_for(request.user, pk)
    event = _event_of(case, event_pk)
    if request.method == "POST":
        try:
            actions.delete_event(event, user=request.user)
        except actions.CaseRefused as refused:
            for problems in refused.errors.values():
                for problem in problems:
                    messages.error(request, problem)
            messages.error(request, _("The event was not deleted."))
            return redirect("case-detail", pk=case.pk)
        return _done(request, case, _("Event deleted; the deadlines are up to date."))
    labels = {t.code: t.label for t in procedures.event_types(case.procedure.key)}
    return _form_page(
        request,
        "cases/confirm_delete.html",
        case=case,
        subject=labels.get(event.type, event.type),
        day=event.date,
    )


@require_http_methods(FORM_METHODS)
@login_required
def element_create(request: HttpRequest, pk: int) -> HttpResponse:
    member_or_403(request)
    case = case_for(request.user, pk)
    form = NewElementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_new_element(case, user=request.user, **form.cleaned_data)
        except actions.CaseRefused as refused:
            show_refusal(form, refused)
        else:
            return _done(request, case, _("New element recorded."))
    return _form_page(request, "cases/element_form.html", case=case, form=form, element=None)


@require_http_methods(FORM_METHODS)
@login_required
def element_edit(request: HttpRequest, pk: int, element_pk: int) -> HttpResponse:
    member_or_403(request)
    case = case_for(request.user, pk)
    element = _element_of(case, element_pk)
    form = NewElementForm(request.POST or None, initial=NewElementForm.initial_for(element))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_new_element(element, user=request.user, **form.cleaned_data)
        except actions.CaseRefused as refused:
            show_refusal(form, refused)
            element.refresh_from_db()
        else:
            return _done(request, case, _("New element corrected."))
    return _form_page(request, "cases/element_form.html", case=case, form=form, element=element)


@require_http_methods(FORM_METHODS)
@login_required
def element_delete(request: HttpRequest, pk: int, element_pk: int) -> HttpResponse:
    member_or_403(request)
    case = case_for(request.user, pk)
    element = _element_of(case, element_pk)
    if request.method == "POST":
        try:
            actions.delete_new_element(element, user=request.user)
        except actions.CaseRefused as refused:
            for problems in refused.errors.values():
                for problem in problems:
                    messages.error(request, problem)
            return redirect("case-detail", pk=case.pk)
        return _done(request, case, _("New element deleted."))
    return _form_page(
        request, "cases/confirm_delete.html", case=case, subject=_("New element"), day=element.date
    )
