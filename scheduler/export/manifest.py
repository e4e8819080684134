"""Per site, per day: what the loudspeakers play, as extended M3U (.m3u8) and as JSON.

Durations and checksums come from the real audio files (see `audio.probe`); the caller probes
every file first, so a bad file stops the export before anything is written. Each item says how
it is played (`sessions.how_played`): `file`, `live` (switch to the receiver or stream at its
time) or `recorded` (a relay aired after its source time: record it at `record_at`, play the
recording). The JSON also lists the day's sessions and the file parts to start in each.
"""
from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..domain import TIMEZONE, PlanItem, WeekPlan, local_iso
from ..errors import ExportError
from ..jsontext import json_text
from . import sessions as sess
from .audio import AudioInfo, audio_path, day_placements

# where a manifest finds a segment's audio: (the item) -> path as the manifest writes it
AudioRef = Callable[[PlanItem], str]

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _entries(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], placements=None):
    todo = day_placements(plan, site_id, day) if placements is None else placements
    for e in sess.entries(plan, todo):
        info = None
        if e.how == sess.FILE:
            if not e.item.audio:
                raise ExportError(f"segment {e.item.id!r} has no audio file in the plan")
            path = audio_path(plan, e.item.audio)
            info = infos.get(path)
            if info is None:
                raise ExportError(f"{path}: audio file was not probed")
        yield e, info


def _session_rows(plan: WeekPlan, site_id: str, placements) -> list[dict]:
    rows = []
    for s in sess.day_sessions(plan, plan.site(site_id), placements):
        rows.append({
            "start": local_iso(s.start),
            "end": local_iso(s.end),
            "daypart": s.daypart,
            "title": s.title,
            "files": [{"name": part.name, "start": local_iso(part.start),
                       "after_relay": part.after.item.id if part.after else None} for part in s.parts],
        })
    return rows


def manifest_json(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], placements=None,
                  audio_ref: AudioRef | None = None) -> dict:
    """The machine-readable manifest: exact local times (+07:00), real durations and sha256, how
    each item is played, and the day's sessions with the file parts to start (and when).

    `audio_ref` names a segment's audio as the manifest writes it (default: its path in the dataset)."""
    site = plan.site(site_id)
    todo = day_placements(plan, site_id, day) if placements is None else list(placements)
    rows = []
    for e, info in _entries(plan, site_id, day, infos, todo):
        p, item = e.placement, e.item
        rows.append({
            "start": local_iso(p.start),
            "end": local_iso(p.end),
            "kind": p.kind,
            "mode": e.how,
            "record_at": local_iso(e.record_at) if e.record_at else None,
            "id": item.id,
            "title": item.title,
            "source": item.source,
            "language": item.language,
            "topic": item.topic,
            "audio": (audio_ref(item) if audio_ref else item.audio) if p.kind == "segment" else None,
            "stream_url": item.stream_url,
            "duration_s": info.duration_s if info else float(item.duration_s),
            "sha256": info.sha256 if info else None,
        })
    return {
        "site": site.id,
        "site_name": site.name,
        "week": plan.week,
        "date": day.isoformat(),
        "timezone": TIMEZONE,
        "items": rows,
        "sessions": _session_rows(plan, site_id, todo),
    }


def manifest_text(doc: dict) -> str:
    """A day manifest as written: loa's JSON layout, one item and one session per line."""
    return json_text(doc, ("items", "sessions"))


def manifest_m3u8(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], manifest_dir: Path,
                  placements=None, audio_ref: AudioRef | None = None) -> str:
    """Extended M3U: recorded items as `#EXTINF:<whole seconds>,<title>` + path relative to the
    manifest folder (or as `audio_ref` names it); a live relay as its stream URL (EXTINF -1) or,
    without one, a `# RELAY` comment; a recorded relay always as a `# RECORDED` comment (its
    stream no longer carries the programme). Every entry is preceded by a `# HH:MM-HH:MM`
    comment with its air time, every session by a `# SESSION` comment (players ignore them)."""
    site = plan.site(site_id)
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(site.name)} {day.isoformat()}"]
    base = Path(os.path.abspath(manifest_dir))
    todo = day_placements(plan, site_id, day) if placements is None else list(placements)
    opening = {s.entries[0].placement: s for s in sess.day_sessions(plan, site, todo)}
    for e, info in _entries(plan, site_id, day, infos, todo):
        p, item = e.placement, e.item
        if p in opening:
            s = opening[p]
            lines.append(f"# SESSION {s.start:%H:%M}-{s.end:%H:%M} {_one_line(s.title)}")
        when = f"{p.start:%H:%M}-{p.end:%H:%M}"
        title = _one_line(item.title)
        if e.how == sess.FILE:
            ref = audio_ref(item) if audio_ref else _relative(os.path.abspath(audio_path(plan, item.audio)), base)
            lines.append(f"# {when} {item.id}")
            lines.append(f"#EXTINF:{max(1, round(info.duration_s))},{title}")
            lines.append(ref)
        elif e.how == sess.RECORDED:
            lines.append(f"# RECORDED {when} {_one_line(item.source)} {title} (record at {e.record_at:%H:%M})")
        elif item.stream_url:
            lines.append(f"# RELAY {when} {_one_line(item.source)} {title}")
            lines.append(f"#EXTINF:-1,{title}")
            lines.append(item.stream_url)
        else:
            lines.append(f"# RELAY {when} {_one_line(item.source)} {title}")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=4096)
def _relative(target: str, base: Path) -> str:
    """The absolute path `target` relative to the folder `base`, with '/' (asked for every item of
    every site-day, by a site's seven playlists from one folder: a fifth of making them)."""
    return Path(os.path.relpath(target, base)).as_posix()


def manifest_files(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], out: Path,
                   placements=None) -> dict[Path, bytes]:
    """The two files of one site-day, as {path: bytes}, under out/audio_manifests/<week>/<site>/.

    `placements` (that site-day's, any order) saves a scan of the whole plan when given."""
    folder = Path(out) / "audio_manifests" / plan.week / site_id
    m3u = manifest_m3u8(plan, site_id, day, infos, folder, placements)
    js = manifest_text(manifest_json(plan, site_id, day, infos, placements))
    return {
        folder / f"{day.isoformat()}.m3u8": m3u.encode("utf-8"),
        folder / f"{day.isoformat()}.json": js.encode("utf-8"),
    }
