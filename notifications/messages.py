"""The words of an alert: the reviewed template in the reader's language, filled in.

Templates use Django's template language with the built-in tags and filters only. Staff alerts
name the case by its reference (never the applicant's name) and link to the case and to the
acknowledgement page. Applicant alerts get a deliberately small context: the date, how many
days are left, nothing about the procedure, the person or the organisation, because an SMS is
often read on a shared phone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from . import schedule
from .models import MessageTemplate, Notification


class NoTemplate(LookupError):
    """No reviewed template for this alert in the reader's language or any fallback."""


@dataclass(frozen=True)
class RenderedMessage:
    language: str
    subject: str
    text: str
    html: str


@cache
def _engine(autoescape: bool) -> Engine:
    # A bare engine: built-in tags and filters, no loaders, no {% load %} of other libraries.
    return Engine(autoescape=autoescape)


def template_name(notification: Notification) -> str:
    return f"{notification.audience}_{notification.kind}"


def candidate_languages(language: str) -> list[str]:
    """The reader's language, then the fallbacks (ALERT_FALLBACK_LANGUAGES), each once."""
    seen: list[str] = []
    for code in [language, *settings.ALERT_FALLBACK_LANGUAGES]:
        code = (code or "").strip().lower()
        if code and code not in seen:
            seen.append(code)
    return seen


def find_template(name: str, channel: str, language: str) -> MessageTemplate:
    candidates = candidate_languages(language)
    found = {
        t.language: t
        for t in MessageTemplate.objects.filter(
            name=name, channel=channel, reviewed=True, language__in=candidates
        )
    }
    for code in candidates:
        if code in found:
            return found[code]
    raise NoTemplate(f"no reviewed {channel} template {name!r} in {', '.join(candidates)}")


def written_date(day: dt.date, language: str, *, year: bool = True) -> str:
    """The date as the pages write it (project/formats), with « 1er » in French: "1er mars 2026",
    "12 Mar 2026"."""
    with translation.override(language):
        text = formats.date_format(day, "DATE_FORMAT" if year else "MONTH_DAY_FORMAT")
    if language.startswith("fr") and day.day == 1:
        text = re.sub(r"^1(?=\D)", "1er", text)
    return text


def reader_language(notification: Notification) -> str:
    """The applicant's preferred language (read at send time), or the staff language."""
    if notification.audience == Notification.Audience.APPLICANT:
        return notification.case.preferred_language
    return settings.LANGUAGE_CODE


def context_for(notification: Notification, language: str, now: dt.datetime) -> dict[str, Any]:
    today = schedule.local_date(now)
    due = notification.due
    days_left = (due - today).days
    common: dict[str, Any] = {
        "due": due,
        "due_date": written_date(due, language),
        "due_date_short": written_date(due, language, year=False),
        "days_left": days_left,
        "days_overdue": max(0, -days_left),
        "lead_days": notification.lead_days,
        "kind": notification.kind,
    }
    if notification.audience == Notification.Audience.APPLICANT:
        return common
    case = notification.case
    deadline = notification.deadline
    base = settings.ALERT_BASE_URL
    recipient = notification.recipient_user
    caseworker = case.assigned_to
    context = {
        **common,
        "case_reference": case.reference,
        "deadline_label": (
            deadline.text_in(notification.language, "label")
            if deadline is not None
            else notification.deadline_key
        ),
        "legal_basis": deadline.legal_basis if deadline is not None else "",
        "case_url": base + reverse("case-detail", args=[case.pk]),
        "ack_url": base + reverse("notifications:ack", args=[notification.ack_token]),
        "alerts_url": base + reverse("notifications:list"),
        "recipient_name": (recipient.get_full_name() or recipient.get_username())
        if recipient is not None
        else "",
        "caseworker_name": caseworker.get_full_name() or caseworker.get_username(),
        # The warnings of the case's result that concern this deadline (title, message).
        "warnings": deadline.warnings_in(language, case) if deadline is not None else [],
    }
    if notification.kind == Notification.Kind.ESCALATION:
        told = (
            Notification.objects.filter(
                case_id=case.pk,
                deadline_key=notification.deadline_key,
                due=due,
                kind=Notification.Kind.OVERDUE,
                audience=Notification.Audience.CASEWORKER,
                sent_at__isnull=False,
            )
            .order_by("sent_at")
            .values_list("sent_at", flat=True)
            .first()
        )
        context["caseworker_told_on"] = (
            written_date(schedule.local_date(told), language) if told else ""
        )
    return context


def render_template(template: MessageTemplate, context: dict[str, Any]) -> RenderedMessage:
    """Fill a template in; raises TemplateSyntaxError when its text does not parse."""
    with translation.override(template.language):
        plain = _engine(False)
        subject = (
            plain.from_string(template.subject).render(Context(context))
            if (template.subject)
            else ""
        )
        text: str = plain.from_string(template.text).render(Context(context))
        html: str = (
            _engine(True).from_string(template.html).render(Context(context))
            if (template.html)
            else ""
        )
        warnings = context.get("warnings") or []
        if warnings and "warnings" not in template.text:
            # Staff alerts always carry the warnings, even from a template written before them
            # (shipped templates are never overwritten); a template naming them places them.
            text, html = _with_warnings(template.channel, text, html, warnings)
    return RenderedMessage(
        language=template.language,
        subject=" ".join(subject.split()),
        text=text.strip() + ("\n" if template.channel == Notification.Channel.EMAIL else ""),
        html=html,
    )


def _with_warnings(
    channel: str, text: str, html: str, warnings: list[dict[str, str]]
) -> tuple[str, str]:
    """Add the warnings: titles only in an SMS (short, no personal data), in full by email."""
    if channel == Notification.Channel.SMS:
        titles = "; ".join(w["title"] for w in warnings)
        return f"{text.strip()} " + gettext("Warning: %(title)s.") % {"title": titles}, html
    heading = gettext("Warnings about this file:")
    lines = "\n".join("- " + gettext("%(title)s: %(message)s") % w for w in warnings)
    text = f"{text.rstrip()}\n\n{heading}\n{lines}\n"
    if html:
        items = format_html_join(
            "",
            "<li>{}</li>",
            ((gettext("%(title)s: %(message)s") % w,) for w in warnings),
        )
        html += format_html("<p><strong>{}</strong></p><ul>{}</ul>", heading, items)
    return text, html


def render(notification: Notification, now: dt.datetime) -> RenderedMessage:
    """The message for a notification, or NoTemplate / TemplateSyntaxError (both permanent)."""
    template = find_template(
        template_name(notification), notification.channel, reader_language(notification)
    )
    return render_template(template, context_for(notification, template.language, now))


__all__ = ["NoTemplate", "RenderedMessage", "TemplateSyntaxError", "render", "written_date"]
