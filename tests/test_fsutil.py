"""fsutil: an output run stages files beside the live folders and switches them in at once."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from scheduler.errors import BugError, ExportError
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


def _chunks(*parts: bytes, fail: BaseException | None = None, pause: float = 0.0):
    def make():
        for part in parts:
            if pause:
                time.sleep(pause)
            yield part
        if fail is not None:
            raise fail
    return make


def test_a_file_written_behind_is_switched_in_with_the_others(tmp_path):
    """plan.json is written by a forked process while the exports are made; the commit waits for
    it and switches it in with them."""
    out = tmp_path / "out"
    plan, manifest = out / "audio_manifests/2024-W10/plan.json", out / "audio_manifests/2024-W10/a/Mon.json"
    with OutputRun(out, ["audio_manifests/2024-W10"]) as run:
        run.write_chunks_behind(plan, _chunks("Xã Ia Blang ".encode(), b"{}" * 100_000, pause=0.05))
        run.write_many({manifest: b"[]"})
        assert not plan.exists()  # staged until the commit
        run.commit()
    assert plan.read_bytes() == "Xã Ia Blang ".encode() + b"{}" * 100_000
    assert manifest.read_bytes() == b"[]"
    assert not (out / ".loa-staging").exists()


def _week_with_plan(tmp_path: Path) -> tuple[Path, Path]:
    """An output folder whose week holds a plan.json of b"old": (--out, that plan.json)."""
    out = tmp_path / "out"
    plan = out / "audio_manifests/2024-W10/plan.json"
    with OutputRun(out, ["audio_manifests/2024-W10"]) as run:
        run.write_many({plan: b"old"})
        run.commit()
    return out, plan


def test_a_file_that_cannot_be_written_behind_fails_the_run_and_changes_nothing(tmp_path):
    out, plan = _week_with_plan(tmp_path)
    for fail, error, said in ((OSError(28, "No space left on device"), ExportError, "No space left on device"),
                              (ValueError("a bug"), BugError, "ValueError: a bug")):
        with pytest.raises(error, match=said):
            with OutputRun(out, ["audio_manifests/2024-W10"]) as run:
                run.write_chunks_behind(plan, _chunks(b"new", fail=fail))
                run.commit()
        assert plan.read_bytes() == b"old"
        assert not (out / ".loa-staging").exists()


def test_a_run_that_fails_while_writing_behind_stops_the_writer_and_changes_nothing(tmp_path):
    out, plan = _week_with_plan(tmp_path)
    with pytest.raises(RuntimeError):
        with OutputRun(out, ["audio_manifests/2024-W10"]) as run:
            run.write_chunks_behind(plan, _chunks(*[b"x"] * 100, pause=0.1))  # 10 s if left alone
            writer = run._behind[0]
            raise RuntimeError("the export failed")
    assert not writer.is_alive()
    assert plan.read_bytes() == b"old"
    assert not (out / ".loa-staging").exists()


def test_a_forked_child_does_not_keep_the_run_locked(tmp_path):
    """Solver and export workers and the plan writer are forked while the run holds its lock;
    a child still alive after its run (killed) must not keep the folder locked."""
    out = tmp_path / "out"
    out.mkdir()  # (a run that made --out removes its lock file when it fails)
    with OutputRun(out, ["a"]):
        pid = os.fork()
        if pid == 0:
            time.sleep(5)
            os._exit(0)
    try:
        with OutputRun(out, ["a"]):  # the child is still running
            pass
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_the_writer_behind_dies_with_a_killed_run(tmp_path):
    out = tmp_path / "out"
    read, write = os.pipe()
    run_pid = os.fork()
    if run_pid == 0:  # the run, killed while its writer works
        try:
            with OutputRun(out, ["audio_manifests/2024-W10"]) as run:
                run.write_chunks_behind(out / "audio_manifests/2024-W10/plan.json",
                                        _chunks(*[b"x"] * 100, pause=0.1))
                os.write(write, str(run._behind[0].pid).encode())
                time.sleep(30)
        finally:
            os._exit(1)
    writer = int(os.read(read, 32))
    os.kill(run_pid, signal.SIGKILL)
    os.waitpid(run_pid, 0)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{writer}").exists() \
            and "Z" not in Path(f"/proc/{writer}/stat").read_text().split(")")[1][:3]:
        time.sleep(0.05)
    alive = Path(f"/proc/{writer}").exists() and "Z" not in Path(f"/proc/{writer}/stat").read_text().split(")")[1][:3]
    assert not alive
    with OutputRun(out, ["audio_manifests/2024-W10"]):  # recovery drops what the killed run staged
        pass
    assert not (out / ".loa-staging").exists() and not (out / "audio_manifests/2024-W10/plan.json").exists()


def test_the_clone_of_a_live_folder_refuses_links_and_special_files_and_drops_leftovers(tmp_path):
    """What a run starts from is the live folder, hard-linked file by file: a link or a FIFO in it
    stops the run (nothing written), a killed writer's temp file is not carried over."""
    out = tmp_path / "out"
    week = out / "calendars/2024-W10"
    with OutputRun(out, ["calendars/2024-W10"]) as run:
        run.write_many({week / "chu-se/a.ics": b"A", week / "b.ics": b"B"})
        run.commit()
    leftover = week / "chu-se" / ".a.ics.abcd1234.tmp"
    leftover.write_bytes(b"half")
    with OutputRun(out, ["calendars/2024-W10"]) as run:
        run.write_many({week / "b.ics": b"B2"})
        run.commit()
    assert sorted(p.relative_to(week).as_posix() for p in week.rglob("*") if p.is_file()) == ["b.ics", "chu-se/a.ics"]
    assert (week / "chu-se/a.ics").read_bytes() == b"A" and (week / "b.ics").read_bytes() == b"B2"
    for trap, said in ((lambda p: p.symlink_to(tmp_path), "symbolic link"),
                       (lambda p: p.symlink_to(week / "b.ics"), "not a regular file"),
                       (os.mkfifo, "not a regular file")):
        trap(week / "chu-se" / "trap")
        with pytest.raises(ExportError, match=said):
            with OutputRun(out, ["calendars/2024-W10"]) as run:
                run.write_many({week / "b.ics": b"B3"})
        (week / "chu-se" / "trap").unlink()
        assert (week / "b.ics").read_bytes() == b"B2" and not (out / ".loa-staging").exists()
