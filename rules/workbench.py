"""The legal staff's workbench: drafts, four-eyes publishing, scenarios, impact and history.

The admin, the commands and the tests call these functions; none of the logic lives in the admin.
"""

from __future__ import annotations

from collections.abc import Callable

# Called on commit with the id of a pack version that was just published (ids, not objects).
# cases/ subscribes here to re-evaluate every open case of the procedure.
after_publish: list[Callable[[int], None]] = []
