"""Audio with pydub: probe the real files (duration, checksum) and render one file per session.

Durations and checksums in manifests always come from here, never from the dataset's CSV, so a
manifest describes the bytes a player will actually read. The probe itself is
`scheduler.audioprobe` (shared with the loader, cached by content); here its failures become
ExportErrors naming the file. pydub needs Debian `ffmpeg` for anything but WAV.
"""
from __future__ import annotations

import io
import shutil
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from .. import audioprobe
from ..audioprobe import AudioInfo, ProbeError
from ..domain import Placement, WeekPlan, week_days
from ..errors import DataError, ExportError, Problem
from ..fsutil import is_inside, write_all_or_nothing
from .sessions import day_sessions

PEAK_CEILING_DBFS = -1.0  # loudness matching never pushes a peak above this (no clipping)
RENDER_FORMATS = ("mp3", "ogg", "wav")


@contextmanager
def _as_export_error():
    """A ProbeError becomes the ExportError the CLI reports (same message, naming the file)."""
    try:
        yield
    except ProbeError as exc:
        raise ExportError(str(exc)) from None


def probe(path: Path) -> AudioInfo:
    """Duration, checksum and loudness of one audio file.

    Raises ExportError naming the file when it is missing, unreadable, undecodable, empty or
    silent (every sample zero).
    """
    with _as_export_error():
        return audioprobe.probe(path)


def probe_many(paths) -> dict[Path, AudioInfo]:
    """Probe every distinct file; report every bad file at once (one ExportError)."""
    results = audioprobe.probe_many(paths)
    problems = [str(r) for r in results.values() if isinstance(r, ProbeError)]
    if problems:
        head = "audio problem:" if len(problems) == 1 else f"{len(problems)} audio problems:"
        raise ExportError("\n".join([head] + [f"  - {p}" for p in problems]) + "\nnothing was written")
    return results


def audio_path(plan: WeekPlan, audio: str) -> Path:
    """Where a dataset-relative audio path lives on disk (plan files only hold relative ones)."""
    return _joined(plan.dataset_root, audio)


@lru_cache(maxsize=4096)
def _joined(root: str, audio: str) -> Path:
    """Asked once per placement by every manifest and calendar: made once per file."""
    return Path(root) / audio


def day_placements(plan: WeekPlan, site_id: str, day: date) -> list[Placement]:
    return sorted(
        (p for p in plan.placements if p.site_id == site_id and p.start.date() == day),
        key=lambda p: (p.start, p.end, p.kind, p.item_id),
    )


def _match_loudness(seg, target_dbfs: float):
    gain = target_dbfs - seg.dBFS
    headroom = PEAK_CEILING_DBFS - seg.max_dBFS
    return seg.apply_gain(min(gain, headroom))


def render_sessions(plan: WeekPlan, site_id: str, day: date, out_dir: Path, gap_ms: int = 2000,
                    target_dbfs: float = -18.0, fmt: str = "mp3", session_gap_minutes: int | None = None) -> list[Path]:
    """Render the day's sessions (`render_session_files`) and write them all or none."""
    files = render_session_files(plan, site_id, day, out_dir, gap_ms, target_dbfs, fmt, session_gap_minutes)
    try:
        return write_all_or_nothing(files)  # a day's sessions are replaced together or not at all
    except OSError as exc:
        raise ExportError(f"{out_dir}: cannot write the session files ({exc.strerror or exc}); "
                          "nothing was written") from None


def render_session_files(
    plan: WeekPlan,
    site_id: str,
    day: date,
    out_dir: Path,
    gap_ms: int = 2000,
    target_dbfs: float = -18.0,
    fmt: str = "mp3",
    session_gap_minutes: int | None = None,
) -> dict[Path, bytes]:
    """One audio file per file part of each session of `day` at `site_id` (`sessions.Session.parts`).

    A session is a run of placements less than `session_gap_minutes` apart (default: the site's
    session_gap_minutes in the plan, the gap the planner kept). Relays have no file: a live relay
    is taken from the receiver, a recorded one from the operator's own recording. So a session's
    segments are cut at its relays: each run of segments between relays is one file, named
    `<site>_<YYYY-MM-DD>_<HHMM>.<fmt>` by the start of its first segment. A file after a relay
    therefore starts when the relay ends, and a file started at the time in its name can never
    play over the news: a file longer than its slot (too long a `gap_ms`) is refused. Each
    segment is gain-matched to `target_dbfs` (RMS), never beyond a -1 dBFS peak, and segments
    are separated by `gap_ms` of silence. Files go in `out_dir`, as {path: bytes}: nothing is
    written here (`render_sessions` writes a day's files all or none).
    """
    from pydub import AudioSegment


    if fmt not in RENDER_FORMATS:
        raise ExportError(f"unknown audio format {fmt!r}; expected one of {', '.join(RENDER_FORMATS)}")
    if gap_ms < 0:
        raise ExportError(f"gap must be >= 0 ms, got {gap_ms}")
    if site_id not in {s.id for s in plan.sites}:
        raise ExportError(f"site {site_id!r} is not in the plan of {plan.week}")
    if day not in week_days(plan.week):
        raise ExportError(f"{day} is not in the plan's week {plan.week}")
    if fmt != "wav" and shutil.which("ffmpeg") is None:
        raise ExportError(f"rendering {fmt} needs ffmpeg (apt-get install ffmpeg)")
    rendered: list[tuple[Path, object]] = []
    sessions = day_sessions(plan, plan.site(site_id), day_placements(plan, site_id, day),
                            gap_minutes=session_gap_minutes)
    for part in (part for session in sessions for part in session.parts):
        segs = []
        for e in part.entries:
            if not e.item.audio:
                raise ExportError(f"segment {e.item.id!r} at {site_id} has no audio file in the plan")
            path = audio_path(plan, e.item.audio)
            if not is_inside(path, plan.dataset_root):
                raise ExportError(f"{e.item.audio}: audio outside the dataset folder (a symbolic link leads out)")
            probe(path)  # same checks (missing, undecodable, silent) as the manifests
            with _as_export_error():
                segs.append(_match_loudness(audioprobe.decode(path), target_dbfs))
        out = segs[0]
        for seg in segs[1:]:
            out = out + AudioSegment.silent(duration=gap_ms, frame_rate=out.frame_rate) + seg
        slot_ms = (part.end - part.start).total_seconds() * 1000
        if len(out) > slot_ms:
            raise ExportError(
                f"{part.name}: {len(out) / 1000:.1f} s of audio do not fit the {slot_ms / 1000:.0f} s planned from "
                f"{part.start:%H:%M} to {part.end:%H:%M}; use a shorter --gap-ms (now {gap_ms} ms)")
        rendered.append((Path(out_dir) / f"{part.name}.{fmt}", out))
    files = {}
    for path, seg in rendered:
        buf = io.BytesIO()
        params = ["-q:a", "4"] if fmt == "ogg" else None
        kwargs = {"bitrate": "128k"} if fmt == "mp3" else {}
        seg.export(buf, format=fmt, parameters=params, tags={"title": path.stem}, **kwargs) if fmt != "wav" \
            else seg.export(buf, format="wav")
        files[path] = buf.getvalue()
    return files


def parse_day(text: str) -> date:
    """A --date; a bad one is bad input (exit 2), not an export failure."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise DataError(Problem("--date", None, "date", text, "a date YYYY-MM-DD")) from None
