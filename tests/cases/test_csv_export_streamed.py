"""The CSV export is written while it is sent: the same rows as the deadlines' own methods give
(model instances, in the reader's language), its cases recorded as viewed in one insert before
the first row leaves, and a number of queries that does not depend on how it is cut in pieces."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from psycopg.pq import TransactionStatus

from cases import procedures
from cases.dashboard import BUCKET_LABELS, PENDING, bucket_of, status_text
from cases.forms import person_name
from cases.models import Case, CaseView, Deadline, Organisation
from cases.views import exports
from cases.views.exports import safe_cell
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import make_case, make_member
from tests.cases.test_dashboard import read_csv, registered, spread  # noqa: F401  (fixture)
from tests.cases.test_warnings_where_people_look import (  # noqa: F401  (fixtures)
    past_horizon,
    version_2,
)

URL = reverse("deadlines-csv")
IDLE = TransactionStatus.IDLE


def expected_rows(organisation: Organisation, user: User | None, language: str) -> list[list[str]]:
    """The file's rows from Deadline instances and their methods (the export before streaming)."""
    day = today()
    deadlines = Deadline.objects.filter(
        organisation=organisation, case_open=True, status__in=PENDING, completed_on__isnull=True
    ).select_related("case", "case__assigned_to", "case__procedure")
    if user is not None:
        deadlines = deadlines.filter(assigned_to=user)
    ordered = deadlines.order_by(F("due").asc(nulls_last=True), "case_reference", "key")
    with translation.override(language):
        descriptions = procedures.deadline_descriptions()
        return [
            [
                safe_cell(cell)
                for cell in [
                    BUCKET_LABELS[bucket_of(d.due, day)],
                    d.due.isoformat() if d.due else "",
                    status_text(d.status_on(day)),
                    d.case.reference,
                    d.case.applicant_name,
                    d.case.department,
                    procedures.procedure_name(d.case.procedure),
                    d.label_text,
                    descriptions.of(d),
                    person_name(d.case.assigned_to),
                    d.legal_basis,
                    d.rule_version,
                    d.explanation_text,
                    "\n".join(
                        translation.gettext("%(title)s: %(message)s") % w for w in d.warnings
                    ),
                ]
            ]
            for d in ordered
        ]


def export(client: Client, language: str, query: dict[str, str] | None = None) -> Any:
    client.cookies["django_language"] = language
    response = client.get(URL, query or {})
    assert response.status_code == 200
    return response


@pytest.fixture
def mixed(
    spread: None,  # noqa: F811
    past_horizon: Case,  # noqa: F811  (warnings in both languages)
    org_a: Organisation,
    org_b: Organisation,
    carla: User,
    bruno: User,
    asylum_pack: PackVersion,
) -> None:
    """Two caseworkers' deadlines of every kind, warnings, a formula name, another organisation."""
    registered(org_a, carla, asylum_pack, 2, reference="-1", applicant_name="=SUM(A1)")
    registered(org_b, bruno, asylum_pack, 4, reference="ELSEWHERE")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.usefixtures("mixed")
def test_the_streamed_file_has_the_rows_the_deadlines_give_in_the_readers_language(
    client: Client, org_a: Organisation, carla: User, sofia: User, language: str
) -> None:
    client.force_login(carla)
    response = export(client, language)
    assert response.streaming
    rows = read_csv(response)[1:]
    assert rows == expected_rows(org_a, carla, language)
    assert any(row[13] for row in rows)  # the warnings column is not always empty
    assert "'=SUM(A1)" in {row[4] for row in rows}

    client.force_login(sofia)
    everyone = read_csv(export(client, language, {"caseworker": "all"}))[1:]
    assert everyone == expected_rows(org_a, None, language)
    assert {row[9] for row in everyone} == {person_name(carla), person_name(sofia)}
    assert "ELSEWHERE" not in {row[3] for row in everyone}


@pytest.mark.usefixtures("mixed")
def test_the_exported_cases_are_recorded_in_one_insert_before_the_first_row(
    client: Client, carla: User
) -> None:
    client.force_login(carla)
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        response = export(client, "fr")
        assert CaseView.objects.count() > 0  # recorded before a byte of the file is read
        rows = read_csv(response)[1:]
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "cases_caseview"')]
    assert len(inserts) == 1
    views = CaseView.objects.select_related("case")
    assert sorted(safe_cell(v.case.reference) for v in views) == sorted({row[3] for row in rows})
    assert {(v.user_id, v.through) for v in views} == {(carla.pk, CaseView.Through.CSV_EXPORT)}
    assert all(before <= v.at <= timezone.now() for v in views)


@pytest.mark.usefixtures("spread")
def test_a_case_that_enters_the_scope_while_the_file_is_sent_is_left_out_of_it(
    client: Client, org_a: Organisation, carla: User, asylum_pack: PackVersion
) -> None:
    client.force_login(carla)
    response = export(client, "fr")
    registered(org_a, carla, asylum_pack, 3, reference="LATE")
    references = {row[3] for row in read_csv(response)[1:]}
    assert "OVERDUE" in references
    # Sent, it would be a case read without a record of it.
    assert "LATE" not in references
    assert not CaseView.objects.filter(case__reference="LATE").exists()


@pytest.mark.usefixtures("mixed")
def test_cutting_the_file_in_small_pieces_changes_neither_it_nor_its_queries(
    client: Client, sofia: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(sofia)
    query = {"caseworker": "all"}
    export(client, "fr", query).getvalue()  # warm the compiled pack cache and the session
    with CaptureQueriesContext(connection) as whole_queries:
        whole = b"".join(export(client, "fr", query).streaming_content)
    monkeypatch.setattr(exports, "FETCH_ROWS", 2)
    monkeypatch.setattr(exports, "WRITE_ROWS", 2)
    with CaptureQueriesContext(connection) as piece_queries:
        pieces = list(export(client, "fr", query).streaming_content)
    rows = len(read_csv(export(client, "fr", query))) - 1
    assert rows > 4
    assert len(pieces) == 1 + (rows + 1) // 2  # the header first, then 2 rows at a time
    assert b"".join(pieces) == whole
    assert len(piece_queries) == len(whole_queries)


def test_the_queries_of_the_export_do_not_grow_with_its_rows(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, sofia: User
) -> None:
    workers = [make_member(f"worker{i}", org_a, first_name=f"Worker {i}") for i in range(4)]

    def add(count: int) -> None:
        start = Case.objects.count()
        for i in range(start, start + count):
            make_case(
                org_a,
                workers[i % 4],
                asylum_pack,
                reference=f"N-{i:03}",
                events=[("registration", today() - dt.timedelta(days=i % 12))],
            )

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            rows = len(read_csv(export(client, "fr", {"caseworker": "all"}))) - 1
        return rows, len(captured)

    client.force_login(sofia)
    add(2)
    export(client, "fr").getvalue()
    few_rows, few = queries()
    add(30)
    many_rows, many = queries()
    assert many_rows > few_rows
    assert many == few


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's streamed query")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mixed")
def test_on_postgresql_the_rows_are_read_as_sent_and_no_transaction_outlives_the_file(
    client: Client, carla: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows come from one query read as it is sent, in a transaction that ends with the
    file, whether it is read to its end or dropped half way. Meanwhile the connection is busy:
    a query on it is refused at once (psycopg would wait for it forever)."""
    # The cases recorded first: recorded alongside, a file this small is read whole before
    # they are, and sent from memory (test_export_audit_alongside.py).
    monkeypatch.setattr(exports, "RECORD_ALONGSIDE", False)
    monkeypatch.setattr(exports, "FETCH_ROWS", 2)
    monkeypatch.setattr(exports, "WRITE_ROWS", 2)
    client.force_login(carla)

    def answers_outside_a_transaction() -> bool:
        """A query runs on the connection, and PostgreSQL holds no transaction open on it."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            answered = cursor.fetchone() == (1,)
        return answered and bool(connection.connection.info.transaction_status == IDLE)

    whole = b"".join(export(client, "fr").streaming_content)
    response = export(client, "fr")
    pieces = iter(response.streaming_content)
    head = [next(pieces), next(pieces)]  # the header, the first rows
    assert connection.in_atomic_block
    with pytest.raises(exports.ConnectionBusy):
        answers_outside_a_transaction()
    rest = list(pieces)
    assert rest
    assert b"".join(head + rest) == whole
    response.close()
    assert not connection.in_atomic_block
    assert answers_outside_a_transaction()

    dropped = export(client, "fr")
    pieces = iter(dropped.streaming_content)
    next(pieces)
    next(pieces)
    dropped.close()  # the reader went away half way
    assert not connection.in_atomic_block
    assert answers_outside_a_transaction()
    assert read_csv(export(client, "fr"))  # and the next file is whole


@pytest.mark.usefixtures("mixed")
def test_an_invalid_filter_gives_a_file_with_its_header_and_no_rows(
    client: Client, sofia: User
) -> None:
    # The dashboard shows nothing for a filter it cannot read; the file says the same.
    client.force_login(sofia)
    header = read_csv(export(client, "fr"))[0]
    before = CaseView.objects.count()
    for query in ({"status": "someday"}, {"caseworker": "nobody"}, {"department": "99x"}):
        assert read_csv(export(client, "fr", query)) == [header], query
    assert CaseView.objects.count() == before  # no case sent, none recorded
