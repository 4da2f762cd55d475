"""{% review_banner %}: on admin pages, tells staff how many things are waiting for review."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("admin/rules/workbench/_banner.html", takes_context=True)
def review_banner(context: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return {"count": 0}
    if not user.has_perm("rules.view_packversion"):
        return {"count": 0}
    from rules.review import review_items

    return {"count": len(review_items())}
