"""Per site, per day: what the loudspeakers play, as extended M3U (.m3u8) and as JSON.

Durations and checksums come from the real audio files (see `audio.probe`); the caller probes
every file first, so a bad file stops the export before anything is written.
"""
from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from ..domain import TIMEZONE, WeekPlan, local_iso
from ..errors import ExportError
from .audio import AudioInfo, audio_path, day_placements

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _entries(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], placements=None):
    items = {(i.kind, i.id): i for i in plan.items}
    todo = day_placements(plan, site_id, day) if placements is None else sorted(
        placements, key=lambda p: (p.start, p.end, p.kind, p.item_id))
    for p in todo:
        item = items.get((p.kind, p.item_id))
        if item is None:
            raise ExportError(f"plan {plan.week}: placement of unknown {p.kind} {p.item_id!r} at {site_id}")
        info = None
        if p.kind == "segment":
            if not item.audio:
                raise ExportError(f"segment {item.id!r} has no audio file in the plan")
            path = audio_path(plan, item.audio)
            info = infos.get(path)
            if info is None:
                raise ExportError(f"{path}: audio file was not probed")
        yield p, item, info


def manifest_json(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], placements=None) -> dict:
    """The machine-readable manifest: exact local times (+07:00), real durations and sha256."""
    site = plan.site(site_id)
    rows = []
    for p, item, info in _entries(plan, site_id, day, infos, placements):
        rows.append({
            "start": local_iso(p.start),
            "end": local_iso(p.end),
            "kind": p.kind,
            "id": item.id,
            "title": item.title,
            "source": item.source,
            "language": item.language,
            "topic": item.topic,
            "audio": item.audio if p.kind == "segment" else None,
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
    }


def manifest_m3u8(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], manifest_dir: Path,
                  placements=None) -> str:
    """Extended M3U: recorded items as `#EXTINF:<whole seconds>,<title>` + path relative to the
    manifest folder; relays as their stream URL (EXTINF -1) or, without one, a `# RELAY` comment.
    Every entry is preceded by a `# HH:MM-HH:MM` comment with its air time (players ignore it)."""
    site = plan.site(site_id)
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(site.name)} {day.isoformat()}"]
    base = Path(os.path.abspath(manifest_dir))
    for p, item, info in _entries(plan, site_id, day, infos, placements):
        when = f"{p.start:%H:%M}-{p.end:%H:%M}"
        title = _one_line(item.title)
        if p.kind == "segment":
            rel = os.path.relpath(os.path.abspath(audio_path(plan, item.audio)), base)
            lines.append(f"# {when} {item.id}")
            lines.append(f"#EXTINF:{max(1, round(info.duration_s))},{title}")
            lines.append(Path(rel).as_posix())
        elif item.stream_url:
            lines.append(f"# RELAY {when} {_one_line(item.source)} {title}")
            lines.append(f"#EXTINF:-1,{title}")
            lines.append(item.stream_url)
        else:
            lines.append(f"# RELAY {when} {_one_line(item.source)} {title}")
    return "\n".join(lines) + "\n"


def manifest_files(plan: WeekPlan, site_id: str, day: date, infos: dict[Path, AudioInfo], out: Path,
                   placements=None) -> dict[Path, bytes]:
    """The two files of one site-day, as {path: bytes}, under out/audio_manifests/<week>/<site>/.

    `placements` (that site-day's, any order) saves a scan of the whole plan when given."""
    folder = Path(out) / "audio_manifests" / plan.week / site_id
    m3u = manifest_m3u8(plan, site_id, day, infos, folder, placements)
    js = json.dumps(manifest_json(plan, site_id, day, infos, placements), ensure_ascii=False, indent=1) + "\n"
    return {
        folder / f"{day.isoformat()}.m3u8": m3u.encode("utf-8"),
        folder / f"{day.isoformat()}.json": js.encode("utf-8"),
    }
