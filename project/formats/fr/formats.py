"""French dates with the month in words: « 8 avr. 2026 » (N: the abbreviated month, with its
point), never a numeric date (FORMAT_MODULE_PATH in project/settings.py)."""

from __future__ import annotations

DATE_FORMAT = "j N Y"
SHORT_DATE_FORMAT = "j N Y"
DATETIME_FORMAT = r"j N Y \à H:i"
SHORT_DATETIME_FORMAT = r"j N Y \à H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1  # lundi
