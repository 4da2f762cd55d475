"""Build an admin page's POST data from its rendered forms, as a browser would submit them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


def _value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def _form_fields(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[form.add_prefix(name)] = "on"
            continue
        data[form.add_prefix(name)] = _value(value)
    return data


def change_form_data(response: Any) -> dict[str, Any]:
    """The main form and every inline row of an admin change page, unchanged."""
    context = response.context
    data = _form_fields(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            data.update(_form_fields(form))
    return data


def inline_prefix(response: Any, model_name: str) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model._meta.model_name == model_name:
            return str(inline.formset.prefix)
    raise KeyError(model_name)


def add_inline_row(data: dict[str, Any], prefix: str, values: dict[str, Any]) -> None:
    """Add a new row to an inline formset, as the "Add another" link does."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data[f"{prefix}-{index}-{name}"] = "on"
            continue
        data[f"{prefix}-{index}-{name}"] = _value(value)
    data[f"{prefix}-TOTAL_FORMS"] = index + 1


def inline_index(data: dict[str, Any], prefix: str, field: str, value: Any) -> int:
    """The index of the inline row whose `field` holds `value`."""
    for index in range(int(data[f"{prefix}-TOTAL_FORMS"])):
        if str(data.get(f"{prefix}-{index}-{field}")) == str(value):
            return index
    raise KeyError(value)
