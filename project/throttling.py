"""API rate limits: one budget per API token, counted in the shared cache (settings.CACHES).

With a Redis cache (production) a request costs one round trip: a Lua script keeps each token's
request times in a Redis list, drops the ones out of the window, refuses or records the new one,
all at once on the server (atomic: workers counting at the same moment cannot both take the last
request of a budget), timed by the Redis server's clock. Django's cache API would take two round
trips (read the history, write it back), each through a new redis-py client object. With any
other cache (one process's memory, development and tests) DRF's implementation runs unchanged.
Both count the same way: at most N requests in any window of the rate's period, and a refused
request waits for the oldest of the window to leave it.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

# KEYS[1]: a token's request times, newest first (seconds, text). ARGV: budget, period (s).
# Answers {1, ""} when the request is recorded, {0, seconds until the oldest time leaves the
# window} when it is refused (text: Redis would truncate a Lua number to an integer).
SLIDING_WINDOW = """
local budget = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local oldest = redis.call('LINDEX', KEYS[1], -1)
while oldest and tonumber(oldest) <= now - period do
  redis.call('RPOP', KEYS[1])
  oldest = redis.call('LINDEX', KEYS[1], -1)
end
local count = redis.call('LLEN', KEYS[1])
if count >= budget then
  local remaining = period
  if oldest then remaining = period - (now - tonumber(oldest)) end
  return {0, count, string.format('%.6f', remaining)}
end
redis.call('LPUSH', KEYS[1], string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], math.ceil(period))
return {1, count + 1, ''}
"""

# One redis-py client (and its registered script) per Django cache client, reused for as long as
# that lives: building a redis-py client is what made each cache call cost ~0.3 ms.
_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_scripts_lock = threading.Lock()


def sliding_window_script(cache: RedisCache) -> Any:
    """The Lua script bound to a client of `cache`'s primary server, made once per cache."""
    cache_client = cache._cache  # type: ignore[attr-defined]  # RedisCacheClient, with its pools
    script = _scripts.get(cache_client)
    if script is None:
        with _scripts_lock:
            script = _scripts.get(cache_client)
            if script is None:
                client = cache_client.get_client(write=True)
                script = _scripts[cache_client] = client.register_script(SLIDING_WINDOW)
    return script


class TokenRateThrottle(SimpleRateThrottle):
    """settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"] requests per token.

    A request signed in by session counts against its account, an anonymous one against its
    address. The token is hashed: cache keys never hold a credential.
    """

    scope = "token"
    num_requests: int  # set by DRF from the rate (when there is one)
    duration: int
    count = 0  # requests in the window, the refused one excepted (Redis only)
    remaining: float | None = None  # seconds until the oldest leaves the window (Redis only)

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

    def allow_request(self, request: Request, view: Any) -> bool:
        cache = caches[DEFAULT_CACHE_ALIAS]
        if not isinstance(cache, RedisCache):
            return bool(super().allow_request(request, view))
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # Not the key DRF's history (a pickled list) had: a list there would break a process
        # still running the previous code during a deploy, and the reverse.
        key = cache.make_key(self.key + ":times")
        allowed, count, remaining = sliding_window_script(cache)(
            keys=[key], args=[self.num_requests, self.duration]
        )
        self.count = int(count)
        self.remaining = float(remaining) if not allowed else None
        return bool(allowed)

    def wait(self) -> float | None:
        if self.remaining is None:  # DRF's own count (no Redis)
            return super().wait()
        # As DRF computes it: the time until the oldest request leaves the window, spread over
        # the requests then available (one, unless the limit was lowered meanwhile: None).
        available = self.num_requests - self.count + 1
        return self.remaining / available if available > 0 else None
