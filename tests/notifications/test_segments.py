"""SMS segment counts: GSM-7 when every character allows it, UCS-2 otherwise."""

from __future__ import annotations

import pytest

from notifications.segments import sms_size


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),  # 153 per part once split
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Démarche à faire, écrite à Metz", "GSM-7", 31, 1),  # é and à are GSM-7
        ("Noël", "UCS-2", 4, 1),  # ë is not
        ("€" * 80, "GSM-7", 160, 1),  # the extension table costs two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("doit être faite", "UCS-2", 15, 1),  # ê is not GSM-7: the whole SMS becomes UCS-2
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),  # 67 per part
        ("يجب" * 30, "UCS-2", 90, 2),
        ("🙂", "UCS-2", 2, 1),  # outside the BMP: two UTF-16 units
    ],
)
def test_segment_count(text: str, encoding: str, units: int, segments: int) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)
