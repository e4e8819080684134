"""fsutil: an output run stages files beside the live folders and switches them in at once."""
from __future__ import annotations

from pathlib import Path

from scheduler.fsutil import OutputRun


def test_a_rerun_keeps_the_files_whose_bytes_are_unchanged_and_rewrites_the_others(tmp_path):
    """A re-export of a week where a few sites changed writes only their files: a file whose
    new bytes equal the live ones stays the same file (inode, mtime); a changed one is replaced."""
    out = tmp_path / "out"
    same, changed, new = (out / "calendars/2024-W10" / n for n in ("same.ics", "changed.ics", "new.ics"))
    with OutputRun(out, ["calendars/2024-W10"]) as run:
        run.write_many({same: b"A" * 5000, changed: b"B" * 5000})
        run.commit()
    before = {p: p.stat() for p in (same, changed)}
    with OutputRun(out, ["calendars/2024-W10"]) as run:
        run.write_many({same: b"A" * 5000, changed: b"C" * 5000, new: b"D"})
        run.commit()
    assert same.read_bytes() == b"A" * 5000 and changed.read_bytes() == b"C" * 5000 and new.read_bytes() == b"D"
    assert (same.stat().st_ino, same.stat().st_mtime_ns) == (before[same].st_ino, before[same].st_mtime_ns)
    assert changed.stat().st_ino != before[changed].st_ino


def test_a_failed_run_leaves_the_live_files_as_they_were(tmp_path):
    out = tmp_path / "out"
    live = out / "calendars/2024-W10" / "a.ics"
    with OutputRun(out, ["calendars/2024-W10"]) as run:
        run.write_many({live: b"old"})
        run.commit()
    try:
        with OutputRun(out, ["calendars/2024-W10"]) as run:
            run.write_many({live: b"new"})
            raise RuntimeError("killed before the switch")
    except RuntimeError:
        pass
    assert live.read_bytes() == b"old"
    assert sorted(p.name for p in Path(out).rglob("*") if p.is_file() and p.suffix == ".ics") == ["a.ics"]
