"""A week to forward: one zip per site and week that plays from any folder it is unzipped into.

`<site>_<week>.zip` holds one folder `<site>_<week>/` with
- `DOC-TRUOC.txt`: what is inside and how to use it, in Vietnamese;
- `lich-phat-song.pdf` / `.html`: the printed "Lịch phát sóng" page (`printable`);
- `lich.ics`: the site's calendar, one event per session (the same as `loa export` writes);
- `<YYYY-MM-DD>.m3u8` / `.json`: the day manifests, their audio paths relative inside the folder;
- `buoi-phat/<site>_<YYYY-MM-DD>_<HHMM>.m3u8`: one playlist per file part of a session, named as
  calendars and printed pages name the file to start at that time (`sessions.FilePart`);
- `audio/<segment>.mp3`: every segment the site airs, transcoded to MP3 (what phones and cheap
  players read); manifests give the MP3's own duration and sha256.
The bytes depend on the plan alone: entries sorted, zip timestamps at Monday 00:00 of the week,
MP3s encoded bit-exact without tags, PDFs with the plan's date.
"""
from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Iterator

from .. import audioprobe
from ..audioprobe import AudioInfo, ProbeError
from ..domain import PlanItem, WeekPlan, week_days
from ..errors import ExportError
from ..fsutil import OutputRun
from . import bundle_folder, ical, manifest, printable, site_calendar_path
from . import sessions as sess
from .audio import audio_path
from .i18n import week_title
from .levels import unit_title

MP3_ARGS = ("-vn", "-map_metadata", "-1", "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k",
            "-id3v2_version", "0", "-write_id3v1", "0", "-fflags", "+bitexact", "-flags:a", "+bitexact")
STORED = (".mp3", ".pdf")  # already compressed: stored as they are
TRANSCODE_THREADS = 4


def bundle_path(plan: WeekPlan, out: Path, site_id: str) -> Path:
    site = plan.site(site_id)
    return Path(out) / "bundles" / plan.week / site.district_id / f"{site.id}_{plan.week}.zip"


def _mp3_name(item: PlanItem) -> str:
    return f"audio/{item.id}.mp3"


def transcode(src: Path) -> tuple[bytes, AudioInfo]:
    """The file as MP3 (mono, 24 kHz, 48 kbit/s, bit-exact, no tags) and the MP3's own probe."""
    if shutil.which("ffmpeg") is None:
        raise ExportError("the week bundle needs ffmpeg to transcode audio to MP3 (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory(prefix="loa-mp3-") as tmp:
        out = Path(tmp) / f"{src.stem}.mp3"
        run = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), *MP3_ARGS, str(out)],
                             capture_output=True, text=True, timeout=300)
        if run.returncode != 0 or not out.is_file():
            raise ExportError(f"{src}: cannot transcode to MP3: {run.stderr.strip()[-300:]}")
        try:
            info = audioprobe.probe(out)
        except ProbeError as exc:
            raise ExportError(f"{src}: its MP3 cannot be read back: {exc.message}") from None
        data = out.read_bytes()
    return data, AudioInfo(path=src.with_suffix(".mp3"), duration_s=info.duration_s,
                           sha256=hashlib.sha256(data).hexdigest(), dbfs=info.dbfs)


def _zip(entries: dict[str, bytes], when: datetime) -> bytes:
    """A zip of `entries` (name -> bytes) with fixed order, times and permissions."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.create_system = 3  # unix: the permissions below apply
            info.external_attr = 0o644 << 16
            stored = name.endswith(STORED)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name], compresslevel=None if stored else 9)
    return buf.getvalue()


def _part_playlist(site_name: str, part: sess.FilePart, mp3: dict[str, tuple[bytes, AudioInfo]]) -> str:
    """The playlist of one file part: its segments' MP3s, relative to `buoi-phat/`."""
    after = f" ({sess.after_text(part)})" if part.after is not None else ""
    lines = ["#EXTM3U", f"#PLAYLIST:{site_name} {part.start:%Y-%m-%d} bắt đầu {part.start:%H:%M}{after}"]
    for e in part.entries:
        lines.append(f"# {e.start:%H:%M}-{e.end:%H:%M} {e.item.id}")
        lines.append(f"#EXTINF:{max(1, round(mp3[e.item.id][1].duration_s))},{' '.join(e.item.title.split())}")
        lines.append(f"../{_mp3_name(e.item)}")
    return "\n".join(lines) + "\n"


def _read_me(plan: WeekPlan, site, parts: int) -> str:
    return "\n".join([
        f"Gói lịch phát sóng {week_title(plan.week)} – {site.name} ({unit_title(site)})",
        "",
        "Giải nén cả thư mục rồi dùng ngay trên máy tính hoặc điện thoại, không cần mạng:",
        "- lich-phat-song.pdf: lịch phát sóng in một trang A4 để dán tại đài (lich-phat-song.html: cùng nội dung).",
        "- lich.ics: lịch cho điện thoại và máy tính, mỗi buổi phát là một sự kiện, nhắc trước 10 phút.",
        "  Mở tệp để thêm vào ứng dụng Lịch; xuất lại tuần sau sẽ cập nhật, không nhân đôi sự kiện.",
        f"- buoi-phat/: {parts} danh sách phát (.m3u8), mỗi danh sách là một tệp cần bật trong một buổi,",
        "  tên theo đài, ngày và giờ bắt đầu (ví dụ ..._2024-03-04_0630.m3u8: bật lúc 06:30).",
        "  Mở bằng VLC hoặc trình phát nhạc đúng giờ đó; sau một chương trình tiếp sóng, danh sách bắt",
        "  đầu khi chương trình tiếp sóng kết thúc, nên bật đúng giờ sẽ không phát đè lên thời sự.",
        "- <ngày>.m3u8 và <ngày>.json: mọi mục của từng ngày theo thứ tự phát (cho phần mềm phát tự động).",
        "- audio/: các bài tuyên truyền cải cách hành chính, định dạng MP3.",
        "",
        "Tiếp sóng trực tiếp: đúng giờ, chuyển loa sang máy thu (hoặc luồng) của đài nguồn.",
        "Phát lại bản ghi: ghi âm chương trình vào giờ ghi trong lịch (sự kiện \"Ghi âm\"), rồi phát lại đúng giờ.",
        "",
    ])


def site_bundle(plan: WeekPlan, site_id: str, out: Path, mp3: dict[str, tuple[bytes, AudioInfo]],
                pdf: bytes, html: str) -> bytes:
    """The zip of one site's week. `mp3` maps a segment id to its MP3 bytes and probe; `pdf`
    and `html` are its printed page; the calendar carries the SEQUENCE of the one under `out`."""
    site = plan.site(site_id)
    folder = f"{site.id}_{plan.week}/"
    placements = [p for p in plan.placements if p.site_id == site_id]
    entries: dict[str, bytes] = {}
    # the manifests look an item's audio up by its path in the dataset: give them the MP3's probe
    by_path = {audio_path(plan, i.audio): mp3[i.id][1] for i in plan.items if i.kind == "segment" and i.id in mp3}
    parts = 0
    for day in week_days(plan.week):
        todo = [p for p in placements if p.start.date() == day]
        doc = manifest.manifest_json(plan, site_id, day, by_path, todo, audio_ref=_mp3_name)
        entries[f"{folder}{day.isoformat()}.json"] = manifest.manifest_text(doc).encode()
        entries[f"{folder}{day.isoformat()}.m3u8"] = manifest.manifest_m3u8(
            plan, site_id, day, by_path, Path("."), todo, audio_ref=_mp3_name).encode()
        for s in sess.day_sessions(plan, site, todo):
            for part in s.parts:
                entries[f"{folder}buoi-phat/{part.name}.m3u8"] = _part_playlist(site.name, part, mp3).encode()
                parts += 1
    for sid in sorted({p.item_id for p in placements if p.kind == "segment"}):
        entries[f"{folder}audio/{sid}.mp3"] = mp3[sid][0]
    previous = ical.read_previous(site_calendar_path(plan, out, site_id))
    entries[f"{folder}lich.ics"] = ical.to_bytes(ical.site_calendar(plan, site_id, previous))
    entries[f"{folder}lich-phat-song.pdf"] = pdf
    entries[f"{folder}lich-phat-song.html"] = html.encode("utf-8")
    entries[f"{folder}DOC-TRUOC.txt"] = _read_me(plan, site, parts).encode("utf-8")
    return _zip(entries, datetime.combine(plan.monday, datetime.min.time()))


def iter_bundles(plan: WeekPlan, out: Path, site_ids=None, on_site=None) -> Iterator[tuple[Path, bytes]]:
    """(path under `out`, zip bytes) for each site (default: every site of the plan), one at a time.

    Every audio file is transcoded and every page printed before the first zip is given, so a
    missing tool or a bad file stops before anything is written; `on_site(page name)` is called
    as each site's page is printed (the slow part)."""
    known = {s.id for s in plan.sites}
    wanted = sorted(known if site_ids is None else set(site_ids))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ExportError(f"not in the plan of {plan.week}: {', '.join(unknown)}")
    printable.chromium()  # missing tools are said before any work
    if shutil.which("ffmpeg") is None:
        raise ExportError("the week bundle needs ffmpeg to transcode audio to MP3 (apt-get install ffmpeg)")
    segments = {i.id: i for i in plan.items if i.kind == "segment"}
    used = sorted({p.item_id for p in plan.placements if p.kind == "segment" and p.site_id in set(wanted)})
    missing = [sid for sid in used if sid not in segments or not segments[sid].audio]
    if missing:
        raise ExportError(f"segments without audio in the plan: {', '.join(missing)}")
    with ThreadPoolExecutor(max_workers=TRANSCODE_THREADS) as pool:  # ffmpeg runs outside the GIL
        mp3 = dict(zip(used, pool.map(lambda sid: transcode(audio_path(plan, segments[sid].audio)), used)))
    pages = printable.print_files(plan, wanted, pdf=True, on_page=on_site, summaries=False)
    for site_id in wanted:
        stem = Path(plan.site(site_id).district_id) / printable.schedule_name(plan, site_id)
        yield bundle_path(plan, out, site_id), site_bundle(
            plan, site_id, out, mp3, pages[stem.with_suffix(".pdf")], pages[stem.with_suffix(".html")].decode())


def bundle_files(plan: WeekPlan, out: Path, site_ids=None, on_site=None) -> dict[Path, bytes]:
    """{path under `out`: zip bytes} of `iter_bundles`; nothing written (all zips in memory)."""
    return dict(iter_bundles(plan, out, site_ids, on_site))


def write_bundles(plan: WeekPlan, out: Path, site_ids=None, on_site=None, run: OutputRun | None = None) -> list[Path]:
    """Write the zips of `iter_bundles` under `out`/bundles/<week>/<district>/ as one transaction
    (`fsutil.OutputRun` over `bundles/<week>`): each zip is staged as soon as it is made (a
    province's bundles are gigabytes: they are never all in memory) and the week's folder is
    switched in at the end, so a failure leaves the previous bundles as they were. With `run`
    (`loa export --bundle` passes the run of the calendars) the zips are only staged in it and
    the caller commits. Returns the final paths."""
    if run is None:
        with OutputRun(out, (bundle_folder(plan.week),)) as own:
            paths = write_bundles(plan, out, site_ids, on_site, own)
            own.commit()
        return paths
    paths = []
    for path, data in iter_bundles(plan, out, site_ids, on_site):
        run.write(path, data)  # checks the path lies in an owned folder under --out
        paths.append(path)
    return paths
