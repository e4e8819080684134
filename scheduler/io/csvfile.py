"""CSV files with a known set of columns (named csvfile so it never shadows the stdlib `csv`).

Records are split by the `csv` module, which knows the line each record starts on even with
quoted newlines. Rows are produced one at a time as plain dicts of stripped NFC strings, so a
large file costs time linear in its rows and memory only for what the loader keeps.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .schema import Problems, nfc
from .text import read_text


@dataclass
class Table:
    file: str
    header: list[str]
    columns: tuple[str, ...]
    _records: Iterator[tuple[int, list[str]]]
    _reader: csv.reader  # type: ignore[valid-type]
    _problems: Problems

    def rows(self) -> Iterator[dict[str, str]]:
        """Each data row once: every known column (an optional one left out of the header is "")
        and "_line", the line the record starts on. A row with the wrong number of cells, or the
        first malformed record, is a problem (and the rows end there)."""
        header, name, problems = self.header, self.file, self._problems
        absent = {c: "" for c in self.columns if c not in header}
        try:
            for line, row in self._records:
                if len(row) != len(header):
                    problems.add(
                        name, line, None, ",".join(row)[:80],
                        f"{len(header)} cells like the header ({len(row)} found; quote cells that contain commas)",
                    )
                    continue
                cells = dict(zip(header, (nfc(c.strip()) for c in row)))
                cells.update(absent)
                cells["_line"] = line  # type: ignore[assignment]
                yield cells
        except csv.Error as exc:
            problems.add(name, self._reader.line_num + 1, None, None, f"well-formed CSV ({exc})")


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of every non-blank record."""
    last = 0
    for row in reader:
        start, last = last + 1, reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        yield start, row


SEPARATORS = {";": "';'", "\t": "a tab"}


def _known_cells(line: str, delimiter: str, columns: tuple[str, ...]) -> int:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # e.g. a header cell over the field size limit: the reader proper names it
        return 0
    return sum(nfc(c.strip()).lower() in columns for c in cells)


def sniff_separator(text: str, columns: tuple[str, ...]) -> str:
    """',' unless the header names more known columns when split by ';' or a tab (Excel in a
    Vietnamese or European locale saves "CSV" with ';')."""
    # the first non-blank line, read lazily (a big file is not split into lines for it)
    header = next((line for line in io.StringIO(text, newline=None) if line.strip()), "")
    best, known = ",", _known_cells(header, ",", columns)
    for delimiter in SEPARATORS:
        n = _known_cells(header, delimiter, columns)
        if n > known and n >= 2:
            best, known = delimiter, n
    return best


def read_csv(
    root: Path, name: str, columns: tuple[str, ...], required: tuple[str, ...], problems: Problems,
    must_exist: bool = True, path: Path | None = None,
) -> Table | None:
    """The rows of a CSV file whose header holds `required` and nothing outside `columns`.

    Blank rows are skipped; a row with the wrong number of cells is a problem and left out. A bad
    header (missing, unknown or repeated columns) or malformed CSV before it gives None. A file
    separated by ';' or tabs is read as such, with a warning saying how to save it with commas.
    `path` reads a staged candidate in place of root/name (see `read_text`).
    """
    text = read_text(root, name, problems, required=must_exist, path=path)
    if text is None:
        return None
    delimiter = sniff_separator(text, columns)
    if delimiter != ",":
        problems.warn(
            name, 1, None, None,
            f"a comma-separated file: its columns are separated by {SEPARATORS[delimiter]} (as Excel saves "
            f"\"CSV\" in a Vietnamese or European locale); it was read that way. Fix: save it as \"CSV UTF-8 "
            f"(Comma delimited)\" or replace the separator by ',' (quote cells holding ';' lists)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    records = _records(reader)
    try:
        header_line, header = next(records)
    except StopIteration:
        problems.add(name, None, None, None, "a header row")
        return None
    except csv.Error as exc:
        problems.add(name, reader.line_num + 1, None, None, f"well-formed CSV ({exc})")
        return None
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
    return Table(name, header, columns, records, reader, problems)
