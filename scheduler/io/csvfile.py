"""CSV files with a known set of columns (named csvfile so it never shadows the stdlib `csv`).

Records are split by the `csv` module, which knows the line each record starts on even with
quoted newlines; the cells then go to pandas as strings (dtype object, no NA guessing).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from .schema import Problems, nfc
from .text import read_text


@dataclass
class Table:
    file: str
    frame: pd.DataFrame  # one column per known column (strings, stripped, NFC) + "_line"

    def rows(self) -> Iterable[dict[str, str]]:
        return self.frame.to_dict("records")


SEPARATORS = {";": "';'", "\t": "a tab"}


def _known_cells(line: str, delimiter: str, columns: tuple[str, ...]) -> int:
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return sum(nfc(c.strip()).lower() in columns for c in cells)


def sniff_separator(text: str, columns: tuple[str, ...]) -> str:
    """',' unless the header names more known columns when split by ';' or a tab (Excel in a
    Vietnamese or European locale saves "CSV" with ';')."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    best, known = ",", _known_cells(header, ",", columns)
    for delimiter in SEPARATORS:
        n = _known_cells(header, delimiter, columns)
        if n > known and n >= 2:
            best, known = delimiter, n
    return best


def read_csv(
    root: Path, name: str, columns: tuple[str, ...], required: tuple[str, ...], problems: Problems,
    must_exist: bool = True,
) -> Table | None:
    """The rows of a CSV file whose header holds `required` and nothing outside `columns`.

    Blank rows are skipped; a row with the wrong number of cells is a problem and left out. A bad
    header (missing, unknown or repeated columns) or malformed CSV gives None. A file separated by
    ';' or tabs is read as such, with a warning saying how to save it with commas.
    """
    text = read_text(root, name, problems, required=must_exist)
    if text is None:
        return None
    delimiter = sniff_separator(text, columns)
    if delimiter != ",":
        problems.warn(
            name, 1, None, None,
            f"a comma-separated file: its columns are separated by {SEPARATORS[delimiter]} (as Excel saves "
            f"\"CSV\" in a Vietnamese or European locale); it was read that way. Fix: save it as \"CSV UTF-8 "
            f"(Comma delimited)\" or replace the separator by ',' (quote cells holding ';' lists)")
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    last = 0
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            records.append((start, row))
    except csv.Error as exc:
        problems.add(name, last + 1, None, None, f"well-formed CSV ({exc})")
        return None
    if not records:
        problems.add(name, None, None, None, "a header row")
        return None
    header_line, header = records[0]
    header = [nfc(h.strip()).lower() for h in header]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    dupes = sorted({h for h in header if header.count(h) > 1})
    expected_cols = f"columns {', '.join(columns)} (required: {', '.join(required)})"
    if missing:
        problems.add(name, header_line, ", ".join(missing), None, f"missing column(s); expected {expected_cols}")
    if unknown:
        problems.add(name, header_line, ", ".join(unknown), None, f"unknown column(s); expected {expected_cols}")
    if dupes:
        problems.add(name, header_line, ", ".join(dupes), None, "each column once")
    if missing or unknown or dupes:
        return None
    good: list[list[str]] = []
    for line, row in records[1:]:
        if len(row) != len(header):
            problems.add(
                name, line, None, ",".join(row)[:80],
                f"{len(header)} cells like the header ({len(row)} found; quote cells that contain commas)",
            )
            continue
        good.append([nfc(c.strip()) for c in row] + [line])
    frame = pd.DataFrame(good, columns=[*header, "_line"], dtype=object)
    for col in columns:
        if col not in frame.columns:
            frame[col] = ""
    frame[list(columns)] = frame[list(columns)].astype(str)
    return Table(name, frame)
