"""How many SMS segments a text takes: GSM-7 when every character allows it, else UCS-2.

Pure Python. A GSM-7 segment holds 160 septets alone or 153 in a multipart message; the
characters of the extension table (€, [, ], ...) take two septets each. Any other character
(ê, ç, «, Arabic, Cyrillic, emoji...) switches the whole message to UCS-2: 70 UTF-16 code units
alone, 67 per part. Providers bill per segment, and long multipart messages arrive out of order
on some phones, so the admin shows the count beside every SMS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# GSM 03.38 basic character set (the escape character itself is left out: it is not text).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each character is sent as ESC + one septet.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of one segment for this message (alone or multipart)

    def __str__(self) -> str:
        plural = "" if self.segments == 1 else "s"
        return f"{self.segments} segment{plural} ({self.encoding}, {self.units} units)"


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def sms_size(text: str) -> SmsSize:
    """The encoding, length and segment count of an SMS text."""
    if is_gsm7(text):
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        single, multi, encoding = 160, 153, GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, UCS2
    if units <= single:
        return SmsSize(encoding, units, 1 if units else 0, single)
    return SmsSize(encoding, units, math.ceil(units / multi), multi)
