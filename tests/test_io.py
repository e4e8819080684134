"""The readers of scheduler/io: any bytes in, a table or located problems out, never a crash."""
from __future__ import annotations

import csv
import io
import os
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.io.csvfile import read_csv
from scheduler.io.schema import Problems

COLUMNS = ("a", "b", "c")
_cells = st.lists(st.one_of(st.text(max_size=10), st.sampled_from(["", " ", '"', ",", "\r\n", "\x00", "\ufeff"])),
                  min_size=0, max_size=4)


@settings(max_examples=int(os.environ.get("LOA_HYPOTHESIS_EXAMPLES", "200")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_cells, max_size=6))
def test_any_cells_written_by_csv_writer_read_back_or_are_problems(tmp_path, rows):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    (tmp_path / "t.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")
    problems = Problems()
    table = read_csv(tmp_path, "t.csv", COLUMNS, ("a",), problems)
    assert all(p.file == "t.csv" and p.expected for p in problems)
    if table is None:
        assert problems and any("\x00" in c for r in rows for c in r)  # the only way to lose the whole file
        return
    kept = [r for r in rows if any(c.strip() for c in r) and len(r) == len(COLUMNS)]
    got = [[row[c] for c in COLUMNS] for row in table.rows()]
    assert got == [[unicodedata.normalize("NFC", c.strip()) for c in r] for r in kept]
    lines = [row["_line"] for row in table.rows()]
    assert lines == sorted(lines) and all(line >= 2 for line in lines)
    short = [r for r in rows if any(c.strip() for c in r) and len(r) != len(COLUMNS)]
    assert len(problems) == len(short)  # each row of the wrong width is named, the rest is read
