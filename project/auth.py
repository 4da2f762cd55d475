"""Sign-in: login throttling (django-axes) and who must use a second factor (django-otp)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest

PUBLISH_PERMISSION = "rules.publish_packversion"


class ThrottledLoginBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for sign-ins that come with a request.

    Every web sign-in passes its request. Code without one (a management command, the test
    client's `login`) is not a network attempt to throttle: it goes on to the next backend.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> Any:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def client_description(
    username: Any, ip_address: Any, user_agent: Any, path_info: Any, request: Any
) -> str:
    """How django-axes names a sign-in attempt in logs: the page only, nothing personal."""
    path = path_info[0] if isinstance(path_info, tuple | list) else path_info
    return f"{{path_info: {path!r}}}"


def needs_second_factor(user: Any) -> bool:
    """Superusers and whoever may publish rules sign in to the admin with a one-time code."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.has_perm(PUBLISH_PERMISSION))
