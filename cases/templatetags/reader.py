"""Template filters that show pack data in the reader's language."""

from __future__ import annotations

from django import template

from rules.models import RulePack

from .. import procedures

register = template.Library()


@register.filter
def procedure_name(procedure: RulePack) -> str:
    """A procedure's name in the active language: {{ case.procedure|procedure_name }}."""
    return procedures.procedure_name(procedure)
