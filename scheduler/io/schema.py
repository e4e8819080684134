"""Typed cells: one CSV row (or one VEVENT turned into a row) parsed field by field.

Each parser records a Problem (file, line, field, value, what is expected) and carries on, so a
loader reports every bad cell of a file in one run. Ids are ASCII slugs; text is NFC.
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from datetime import date
from typing import Any, Iterable

from ..domain import DAY_NAMES
from ..errors import Problem
from ..limits import MAX_PROBLEMS, single_line

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


SLUG_MAX = 48  # characters of an id made from a title (cut at a word boundary)
_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})  # đ has no decomposition; ð is its look-alike
_NON_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """An id from a title: Vietnamese diacritics folded ("Cảnh báo bão số 3" -> canh-bao-bao-so-3,
    đ -> d), lowercase ASCII letters and digits joined by single '-', at most SLUG_MAX characters.

    Never empty: a title with nothing to fold into ASCII gets `muc-` and 8 hex digits of its
    hash. Idempotent: a slug is its own slug.
    """
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    slug = _NON_SLUG_RE.sub("-", ascii_text).strip("-")
    if len(slug) > SLUG_MAX:
        cut = slug[: SLUG_MAX + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut[1:] else cut[:SLUG_MAX]
        slug = slug.strip("-")
    if not slug:
        slug = "muc-" + hashlib.sha256(nfc(text).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return slug


def parse_time(text: str, allow_24: bool = True) -> int:
    """'HH:MM' -> minutes from midnight; raises ValueError outside 00:00..24:00."""
    m = _TIME_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"not HH:MM: {text!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and mi != 0) or (h == 24 and not allow_24):
        raise ValueError(f"outside 00:00-24:00: {text!r}")
    return h * 60 + mi


class Problems(list):
    """The problems found so far, in the order found (DataError lists them at the end), and apart
    from them the warnings: what loads but would plan wrong silently.

    Only the first MAX_PROBLEMS problems are kept; later ones are counted in `more`, so a file of a
    million bad rows costs no more memory than one of two hundred. `count` is the total.
    """

    def __init__(self) -> None:
        super().__init__()
        self.more = 0
        self.warnings: list[Problem] = []

    @property
    def count(self) -> int:
        return len(self) + self.more

    def append(self, problem: Problem) -> None:
        if len(self) < MAX_PROBLEMS:
            super().append(problem)
        else:
            self.more += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def add(self, file: str, line: int | str | None, field: str | None, value: Any, expected: str) -> None:
        self.append(Problem(file, line, field, value, expected))

    def warn(self, file: str, line: int | str | None, field: str | None, value: Any, expected: str) -> None:
        self.warnings.append(Problem(file, line, field, value, expected))


class Cells:
    """Parses the cells of one row, recording a problem for each bad one (`ok` turns False)."""

    def __init__(self, problems: Problems, file: str, row: dict[str, Any]):
        self.problems, self.file, self.row, self.line = problems, file, row, row["_line"]
        self.ok = True

    def bad(self, field: str, value: Any, expected: str) -> None:
        self.ok = False
        self.problems.add(self.file, self.line, field, value, expected)

    def text(self, field: str, required: bool = True) -> str:
        """The cell, single-line: a control character or line break here could end up as a new
        line in a calendar or a playlist, so it is refused where it enters."""
        value = self.row.get(field, "")
        if required and not value:
            self.bad(field, value, "a value (this column is required)")
        if not single_line(value):
            self.bad(field, value, "text on one line, without control characters (tab, CR, LF, ESC, DEL, ...)")
            return ""
        return value

    def slug(self, field: str, required: bool = True) -> str | None:
        value = self.text(field, required)
        if not value:
            return None
        if not SLUG_RE.match(value):
            self.bad(field, value, "an id: lowercase ASCII letters, digits and '-' (e.g. chu-se-ia-blang)")
        return value

    def choice(self, field: str, allowed: Iterable[str], required: bool = True, default: str = "") -> str:
        value = self.text(field, required) or default
        if value and value not in allowed:
            self.bad(field, value, f"one of: {', '.join(allowed)}")
        return value

    def integer(self, field: str, lo: int | None = None, hi: int | None = None, required: bool = True) -> int | None:
        value = self.text(field, required)
        if not value:
            return None
        rng = f" {lo}..{hi}" if lo is not None and hi is not None else (f" >= {lo}" if lo is not None else "")
        try:
            number = int(value)
        except ValueError:
            self.bad(field, value, f"a whole number{rng}")
            return None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            self.bad(field, value, f"a whole number{rng}")
            return None
        return number

    def number(self, field: str, lo: float, hi: float) -> float | None:
        value = self.text(field, required=False)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (lo <= number <= hi):
            self.bad(field, value, f"a decimal number {lo:g}..{hi:g}")
            return None
        return number

    def yes_no(self, field: str, required: bool = True, default: bool = True) -> bool:
        value = self.text(field, required).lower()
        if not value:
            return default
        if value not in ("yes", "no"):
            self.bad(field, value, "yes or no")
            return default
        return value == "yes"

    def items(self, field: str, required: bool = False) -> tuple[str, ...]:
        value = self.text(field, required)
        return tuple(p.strip() for p in value.split(";") if p.strip())

    def days(self, field: str, required: bool = False, allow_daily: bool = False) -> tuple[int, ...]:
        parts = self.items(field, required)
        if allow_daily and [p.lower() for p in parts] == ["daily"]:
            return tuple(range(7))
        out = []
        for p in parts:
            if p.lower() not in DAY_NAMES:
                extra = " or 'daily'" if allow_daily else ""
                self.bad(field, p, f"days from {' '.join(DAY_NAMES)} separated by ';'{extra}")
                return ()
            out.append(DAY_NAMES.index(p.lower()))
        return tuple(sorted(set(out)))

    def languages(self, field: str, required: bool = True, many: bool = True) -> tuple[str, ...]:
        parts = self.items(field, required) if many else tuple(filter(None, [self.text(field, required)]))
        for p in parts:
            if not LANG_RE.match(p):
                self.bad(field, p, "language codes: 2-3 lowercase letters (vi, jra, bdq)")
                return ()
        return parts

    def time(self, field: str) -> int | None:
        value = self.text(field)
        if not value:
            return None
        try:
            return parse_time(value, allow_24=False)
        except ValueError:
            self.bad(field, value, "a time HH:MM within 00:00-23:59")
            return None

    def day(self, field: str) -> date | None:
        value = self.text(field, required=False)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.bad(field, value, "a date YYYY-MM-DD")
            return None
