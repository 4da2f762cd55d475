from __future__ import annotations

# Notification records arrive in a later issue.
