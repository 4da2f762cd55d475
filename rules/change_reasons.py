"""Why records were written, for the history: a reason (and author) that holds for a whole load.

`recorded_as("imported from pack file", user)` around a block gives every history record written
in it that reason and author unless the record carries its own (`_change_reason`). Loading a pack
file says so by default: "loaded from pack file, version 1", with no author (the system).
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

_current: contextvars.ContextVar[tuple[str, Any] | None] = contextvars.ContextVar(
    "rules_change_reason", default=None
)

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def recorded_as(reason: str, user: Any = None) -> Iterator[None]:
    """History records written inside get this reason (and user), unless they have their own."""
    token = _current.set((reason[:100], user))
    try:
        yield
    finally:
        _current.reset(token)


def current_reason() -> str | None:
    current = _current.get()
    return current[0] if current else None


def current_user() -> Any:
    current = _current.get()
    return current[1] if current else None


def loading_reason(func: F) -> F:
    """For load_pack: "loaded from pack file, version N", unless a caller already gave a reason."""

    @functools.wraps(func)
    def wrapper(data: Any, *args: Any, **kwargs: Any) -> Any:
        if _current.get() is not None:
            return func(data, *args, **kwargs)
        number = kwargs.get("number") or (data.get("version") if isinstance(data, dict) else None)
        with recorded_as(f"loaded from pack file, version {number}"):
            return func(data, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def stamp(sender: type, history_instance: Any, **kwargs: Any) -> None:
    """pre_create_historical_record receiver: fill the reason and user from recorded_as."""
    current = _current.get()
    if current is None:
        return
    reason, user = current
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = reason
    if user is not None and history_instance.history_user_id is None:
        history_instance.history_user = user
