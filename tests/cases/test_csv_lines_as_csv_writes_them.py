"""The CSV export writes its lines itself (cases.views.exports.quoted and line): each line is
the one Python's csv.writer would write with the same delimiter, and a spreadsheet-safe cell
(CSV injection) reads back as it was written."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from cases.views.exports import DELIMITER, line, quoted, safe_cell

# Text that may hold every character the format cares about, and formula starts.
CELL = st.one_of(
    st.text(alphabet=st.sampled_from(';"\r\n\t =+-@a é«»\u00a0'), max_size=12),
    st.text(max_size=40),
    st.integers(),
    st.none(),
)


def written_by_csv(cells: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=DELIMITER).writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()


@given(st.lists(CELL, min_size=2, max_size=8))
def test_a_line_is_the_one_csv_writer_writes(cells: list[object]) -> None:
    assert line(quoted(cell) for cell in cells) == written_by_csv(cells)


@given(st.lists(CELL, min_size=2, max_size=8))
def test_a_line_reads_back_as_its_safe_cells(cells: list[object]) -> None:
    read = list(csv.reader(io.StringIO(line(quoted(cell) for cell in cells)), delimiter=DELIMITER))
    assert read == [[safe_cell(cell) for cell in cells]]


def test_cells_that_need_quotes_get_them() -> None:
    assert quoted('Dit "non"') == '"Dit ""non"""'
    assert quoted("a;b") == '"a;b"'
    assert quoted("ligne 1\nligne 2") == '"ligne 1\nligne 2"'
    assert quoted("=SUM(A1)") == "'=SUM(A1)"
    assert quoted(None) == ""
    assert quoted(3) == "3"
