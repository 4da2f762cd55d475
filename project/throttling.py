"""API rate limits: one budget per API token, counted in the shared cache (settings.CACHES)."""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"] requests per token.

    A request signed in by session counts against its account, an anonymous one against its
    address. The token is hashed: cache keys never hold a credential.
    """

    scope = "token"

    def get_rate(self) -> str | None:
        # Read at each request, not once at import, so that a changed setting applies.
        rate: Any = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return None if rate is None else str(rate)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = getattr(request.auth, "key", None)
        if isinstance(key, str):
            ident = "token-" + hashlib.sha256(key.encode()).hexdigest()[:32]
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
