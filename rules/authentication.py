"""API token authentication without a query per request.

DRF's TokenAuthentication reads the token and its user on every request. Here a token found
is remembered by the process for API_TOKEN_CACHE_SECONDS: a token deleted or rotated (a new
key: the old row is deleted) is forgotten at once in the process that did it, and in the others
within that period. An inactive user is refused as before (checked on each lookup).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

_tokens: dict[str, tuple[Any, Any, float]] = {}  # key: (user, token, read at)
_lock = threading.Lock()
MAX_TOKENS = 10_000


def forget_tokens(**kwargs: Any) -> None:
    with _lock:
        _tokens.clear()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        ttl = settings.API_TOKEN_CACHE_SECONDS
        if ttl > 0:
            remembered = _tokens.get(key)
            if remembered is not None and time.monotonic() - remembered[2] < ttl:
                return remembered[0], remembered[1]
        read_at = time.monotonic()
        user, token = super().authenticate_credentials(key)
        if ttl > 0:
            with _lock:
                if len(_tokens) >= MAX_TOKENS:
                    _tokens.clear()
                _tokens[key] = (user, token, read_at)
        return user, token


post_save.connect(forget_tokens, sender=Token, dispatch_uid="rules-token-cache-save")
post_delete.connect(forget_tokens, sender=Token, dispatch_uid="rules-token-cache-delete")
