"""On PostgreSQL a CSV export records the cases it holds on a connection of its own while its
rows' query starts (cases/views/exports.py `Recording`): the same file as when they are recorded
first, nothing of it given before the record is committed, and no file at all when the record
fails."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.test import Client
from django.urls import reverse

from cases.models import CaseView
from cases.views import exports
from tests.cases.test_csv_export_streamed import mixed  # noqa: F401  (fixture)
from tests.cases.test_dashboard import read_csv, spread  # noqa: F401  (fixture)
from tests.cases.test_warnings_where_people_look import (  # noqa: F401  (fixtures)
    past_horizon,
    version_2,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's second connection"),
    # Committed data: the recording's own connection sees only that.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mixed"),
]

URL = reverse("deadlines-csv")


def read_csv_bytes(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=exports.DELIMITER))


def elsewhere(query: Any) -> Any:
    """What `query()` answers on another connection (a thread's): what is committed."""
    found: list[Any] = []

    def run() -> None:
        try:
            found.append(query())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return found[0]


def recordings(monkeypatch: pytest.MonkeyPatch) -> list[exports.Recording]:
    """Every Recording the exports make from now on."""
    made: list[exports.Recording] = []
    original = exports.Recording.__init__

    def init(self: exports.Recording, *args: Any) -> None:
        original(self, *args)
        made.append(self)

    monkeypatch.setattr(exports.Recording, "__init__", init)
    return made


def test_the_file_is_the_one_its_cases_recorded_first_give(
    client: Client, sofia: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(sofia)
    made = recordings(monkeypatch)
    alongside = client.get(URL, {"caseworker": "all"}).getvalue()
    assert made[0]._thread is not None  # recorded on a connection of its own
    monkeypatch.setattr(exports, "RECORD_ALONGSIDE", False)
    first = client.get(URL, {"caseworker": "all"}).getvalue()
    assert made[1]._thread is None
    assert alongside == first
    assert len(read_csv_bytes(first)) > 5
    views = CaseView.objects.filter(user=sofia, through=CaseView.Through.CSV_EXPORT)
    assert views.count() == 2 * len(set(views.values_list("case_id", flat=True)))


@contextmanager
def trigger_on_views(body: str) -> Iterator[None]:
    """A statement trigger on the case views' table running `body` (PL/pgSQL) on each insert."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE FUNCTION on_views() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER on_views BEFORE INSERT ON cases_caseview "
            "FOR EACH STATEMENT EXECUTE FUNCTION on_views()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER on_views ON cases_caseview")
            cursor.execute("DROP FUNCTION on_views()")


def test_nothing_of_the_file_is_given_before_its_cases_are_recorded(
    client: Client, carla: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "WRITE_ROWS", 2)
    client.force_login(carla)
    # A slow record (half a second): the rows are read long before it is committed.
    with trigger_on_views("PERFORM pg_sleep(0.5)"):
        response: Any = client.get(URL)
        pieces: Iterator[bytes] = iter(response.streaming_content)
        head = next(pieces)
        assert head.startswith("\ufeff".encode())  # the header comes first
        # By then the cases are recorded and committed: another connection sees them.
        recorded = elsewhere(
            lambda: set(CaseView.objects.values_list("case__reference", flat=True))
        )
        body = head + b"".join(pieces)
        response.close()
    references = {row[3] for row in read_csv_bytes(body)[1:]}
    assert references
    assert references <= {exports.safe_cell(r) for r in recorded}


def test_a_recording_that_fails_gives_no_file(
    client: Client, carla: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the record (a trigger here): the export raises before its first
    byte, so the server answers an error instead of a file sent without its record."""
    client.force_login(carla)
    made = recordings(monkeypatch)
    with trigger_on_views("RAISE EXCEPTION 'case views refused'"):
        response: Any = client.get(URL)
        try:
            with pytest.raises(DatabaseError, match="case views refused"):
                next(iter(response.streaming_content))
        finally:
            response.close()
        assert made[0]._thread is not None
    assert not CaseView.objects.exists()
    assert not connection.in_atomic_block  # the read's transaction ended with the file
    assert read_csv(client.get(URL))  # and the next export is whole
