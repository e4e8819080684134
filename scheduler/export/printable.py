"""Printed deliverables: the "Lịch phát sóng" of each commune station (one A4 page per site and
week, the form stations pin on the wall) and a one-page summary per reporting unit (a district, a
group or the province, named by the kind the data gives it) for reporting upward.

Both are HTML pages of the package's templates (`schedule.html.j2`, `summary.html.j2`, styled
by `print.css`), printed to PDF by headless Chromium. A page fits one A4 sheet: a small inline
script (allowed by its hash, nothing else may run or load) shrinks the sheet when a busy week
would overflow. PDFs carry the plan's date instead of the clock, so the same plan gives the same
bytes. Everything is read from the plan; the words are Vietnamese, as the form is.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from markupsafe import Markup

from ..domain import PlanSite, WeekPlan, placements_by_site, week_days
from ..errors import ExportError
from ..fsutil import OutputRun, is_inside, write_all_or_nothing
from . import sessions as sess
from .charts import render
from .i18n import day_name, topic_code, week_title
from .kpis import kpis
from .levels import is_province, titled, unit_title

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_S = 120
PDF_WORKERS = max(1, min(4, os.cpu_count() or 1))
PAGE_HEIGHT_MM = 297 - 2 * 9  # A4 portrait minus the @page margins of print.css
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")

# Shrinks the sheet to one page when it is taller than the page (the only script a page may run).
FIT_SCRIPT = ("(function(){var s=document.getElementById('sheet');var h=s.getBoundingClientRect().height;"
              "var max=s.getAttribute('data-max-px')*1;if(h>max){s.style.zoom=(max/h).toFixed(4);}})();")


def _script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def _page(template: str, **context) -> str:
    max_px = round((PAGE_HEIGHT_MM - 8) * 96 / 25.4)  # CSS px; 8 mm to spare for rounding
    return render(template, "vi", stylesheet="print.css", motto=MOTTO, fit_script=Markup(FIT_SCRIPT),
                  script_hash=_script_hash(FIT_SCRIPT), max_px=max_px, **context)


# --------------------------------------------------------------------------- one commune's week


@dataclass
class Row:
    """One line of a day: a run of PAR items, a relay, a recording, or a blackout."""

    start: datetime
    end: datetime
    content: str
    source: str
    duration: str
    kind: str  # par | relay | recorded | record | blackout
    session: int | None = None  # index of its session in the day (rows of one session share the Buổi cell)


def _short(d: datetime, day: date) -> str:
    return "24:00" if d.date() > day else f"{d:%H:%M}"


def _clock(seconds: float) -> str:
    """Durations as printed tables write them: 9'10", 30'."""
    m, s = divmod(max(0, round(seconds)), 60)
    return f"{m}'{s:02d}\"" if s else f"{m}'"


def _bai_numbers(plan: WeekPlan, entries: list[sess.Entry]) -> dict[str, int]:
    """Each PAR item aired in the week gets a number, in the order of its first airing."""
    order: dict[str, int] = {}
    for e in entries:
        if e.how == sess.FILE and e.item.id not in order:
            order[e.item.id] = len(order) + 1
    return order


def _day_rows(site: PlanSite, day: date, sessions: list[sess.Session], bai: dict[str, int]) -> list[Row]:
    rows: list[Row] = []
    for n, s in enumerate(sessions):
        # a session in air order: its relays, and each file part (a run of PAR items) as one row
        for e in s.entries:
            if e.how != sess.FILE:
                rows.append(Row(e.start, e.end, sess.entry_text(e), sess.source_text(e),
                                _clock(e.item.duration_s), "relay" if e.how == sess.LIVE else "recorded", n))
        for part in s.parts:
            numbers = ", ".join(str(bai[x.item.id]) for x in part.entries)
            rows.append(Row(part.start, part.end, f"{len(part.entries)} {sess.PAR_ITEM}: bài {numbers}", "Tệp ghi âm",
                            _clock(sum(x.item.duration_s for x in part.entries)), "par", n))
    rows.sort(key=lambda r: (r.session, r.start))
    extra: list[Row] = []
    for e in (e for s in sessions for e in s.entries if e.how == sess.RECORDED):
        end = e.record_at + (e.end - e.start)
        extra.append(Row(e.record_at, end, sess.record_text(e), f"{e.item.source}, {sess.receiver_text(e.item)}",
                         _clock(e.item.duration_s), "record"))
    lo = datetime.combine(day, datetime.min.time())
    for b in site.rules.blackouts:
        if b.start < lo + timedelta(days=1) and lo < b.end:
            start, end = max(b.start, lo), min(b.end, lo + timedelta(days=1))
            extra.append(Row(start, end, f"Tạm ngừng phát: {b.title}", "", "", "blackout"))
    # a recording or blackout goes before the session it does not interrupt, else after it
    for row in sorted(extra, key=lambda r: r.start):
        at = next((i for i, r in enumerate(rows) if r.start >= row.start and
                   (r.session is None or i == 0 or rows[i - 1].session != r.session)), len(rows))
        rows.insert(at, row)
    return rows


def site_schedule(plan: WeekPlan, site_id: str) -> str:
    """The "Lịch phát sóng" page of one site's week (HTML, one A4 portrait sheet)."""
    try:
        site = plan.site(site_id)
    except KeyError:
        raise ExportError(f"site {site_id!r} is not in the plan of {plan.week}") from None
    placements = [p for p in plan.placements if p.site_id == site_id]
    week = sess.week_sessions(plan, site, placements)
    entries = [e for day in week.values() for s in day for e in s.entries]
    bai = _bai_numbers(plan, entries)
    days = []
    for i, day in enumerate(week_days(plan.week)):
        sessions = week.get(day, [])
        rows = _day_rows(site, day, sessions, bai)
        shown = []
        for k, r in enumerate(rows):
            first = r.session is None or k == 0 or rows[k - 1].session != r.session
            # rows of one session are consecutive: the Buổi cell spans them from the first
            span = 1 if r.session is None else next(
                (j for j, x in enumerate(rows[k:]) if x.session != r.session), len(rows) - k)
            buoi = sessions[r.session].daypart.capitalize() if r.session is not None else ""
            shown.append({"time": f"{r.start:%H:%M}–{_short(r.end, day)}", "content": r.content, "source": r.source,
                          "duration": r.duration, "kind": r.kind, "buoi": buoi if first else None,
                          "buoi_span": span if first else 0})
        days.append({"label": day_name(i), "date": f"{day:%d/%m}", "rows": shown,
                     "broadcasts": i in site.rules.broadcast_days})
    plays = Counter(e.item.id for e in entries if e.how == sess.FILE)
    items = {e.item.id: e.item for e in entries}
    # producers are long names: each gets a letter, spelled out once under the list
    letters = {src: chr(ord("a") + k) for k, src in enumerate(dict.fromkeys(items[sid].source for sid in bai))}
    legend = [{"n": n, "title": items[sid].title, "topic": topic_code(items[sid].topic),
               "duration": _clock(items[sid].duration_s), "source": letters[items[sid].source],
               "plays": plays[sid]} for sid, n in bai.items()]
    sources = [(letter, src) for src, letter in letters.items()]
    recorded = any(e.how == sess.RECORDED for e in entries)
    example = next((part.name for day in week.values() for s in day for part in s.parts), None)
    return _page("schedule.html.j2", title=f"Lịch phát sóng — {site.name} — {week_title(plan.week)}",
                 site=site, unit=unit_title(site), week=week_title(plan.week), year=plan.monday.year, days=days, legend=legend, sources=sources,
                 recorded=recorded, example=example, dataset=plan.dataset_name)


# --------------------------------------------------------------------------- a reporting unit's week


def district_summary(plan: WeekPlan, district_id: str, frames: dict | None = None) -> str:
    """One page for reporting upward: per commune station, sessions, PAR plays and minutes,
    content areas aired, people reached at least once, relays aired; totals; relays by source."""
    sites = sorted((s for s in plan.sites if s.district_id == district_id), key=lambda s: (s.name, s.id))
    if not sites:
        raise ExportError(f"reporting unit {district_id!r} has no site in the plan of {plan.week}")
    frames = frames if frames is not None else kpis(plan)
    site_rows = {r["site_id"]: r for r in frames["site"].to_dict("records")}
    (total,) = frames["district"][frames["district"]["district_id"] == district_id].to_dict("records")
    by_site = placements_by_site(plan.placements)
    rows = []
    for n, s in enumerate(sites, start=1):
        r = site_rows[s.id]
        sessions = sum(len(v) for v in sess.week_sessions(plan, s, by_site[s.id]).values())
        rows.append({"n": n, "name": s.name, "population": s.population, "sessions": sessions,
                     "par_plays": r["par_plays"], "par_minutes": r["par_minutes"], "topics": r["topics_covered"],
                     "reached": r["people_reached"], "relays": f"{r['mandatory_relays_aired']}/{r['mandatory_relays_due']}"})
    relays = frames["relay"][frames["relay"]["district_id"] == district_id].to_dict("records")
    unit = unit_title(sites[0])  # the reporting unit as the data names its kind: Huyện Chư Sê, Cụm…, Tỉnh…
    province = titled(plan.province_kind, plan.province) if plan.province else plan.dataset_name
    return _page("summary.html.j2", title=f"Báo cáo lịch phát sóng — {unit} — {week_title(plan.week)}",
                 district=unit, province="" if is_province(plan, sites[0]) else province,
                 week=week_title(plan.week), year=plan.monday.year, rows=rows, total=total, relays=relays,
                 sessions_total=sum(r["sessions"] for r in rows))


# --------------------------------------------------------------------------- PDF through Chromium


def chromium() -> str:
    """The headless browser that prints the PDFs; an ExportError when none is installed."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ExportError("printing PDFs needs Chromium (apt-get install chromium); use --no-pdf for HTML only")


def _stamp(pdf: bytes, when: datetime) -> bytes:
    """The PDF with the plan's date in CreationDate/ModDate (same length, so offsets hold)."""
    def fix(m: re.Match) -> bytes:
        value = when.strftime("D:%Y%m%d%H%M%S+07'00'").encode("ascii")
        return m.group(1) + value + b")" if len(value) == len(m.group(2)) else m.group(0)

    return re.sub(rb"(/(?:CreationDate|ModDate) \()(D:\d{14}[^)]*)\)", fix, pdf)


def html_to_pdf(html: str, when: datetime) -> bytes:
    """Print one HTML page to PDF bytes with headless Chromium (its own temp profile, no network)."""
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="loa-print-") as tmp:
        page, pdf = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               # a tagged PDF names its structure by DOM node numbers, which vary from run to run
               "--disable-pdf-tagging",
               f"--user-data-dir={Path(tmp) / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
               page.as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT_S,
                                 env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired:
            raise ExportError(f"Chromium did not print within {PDF_TIMEOUT_S} s") from None
        if run.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
            raise ExportError(f"Chromium could not print the page (exit {run.returncode}): {run.stderr.strip()[-500:]}")
        return _stamp(pdf.read_bytes(), when)


# --------------------------------------------------------------------------- files


def schedule_name(plan: WeekPlan, site_id: str) -> str:
    return f"lich-phat-song_{site_id}_{plan.week}"


def summary_name(plan: WeekPlan, district_id: str) -> str:
    return f"tong-hop_{district_id}_{plan.week}"


def print_files(plan: WeekPlan, site_ids=None, pdf: bool = True, on_page=None,
                summaries: bool = True) -> dict[Path, bytes]:
    """{relative path: bytes} of the printed pages: `<unit>/lich-phat-song_<site>_<week>.html`
    (+ .pdf) per site and, with `summaries`, `tong-hop_<unit>_<week>.html` (+ .pdf) per
    reporting unit of those sites (`<unit>`: the reporting unit's id). `site_ids` (default: every site) limits them; `on_page(name)` is
    called after each page."""
    wanted = [s for s in sorted(plan.sites, key=lambda s: (s.district_id, s.id))
              if site_ids is None or s.id in set(site_ids)]
    unknown = set(site_ids or ()) - {s.id for s in plan.sites}
    if unknown:
        raise ExportError(f"not in the plan of {plan.week}: {', '.join(sorted(unknown))}")
    when = datetime.combine(plan.monday, datetime.min.time())
    if pdf:
        chromium()  # say so before any work when it is missing
    pages: list[tuple[Path, str]] = []
    for s in wanted:
        pages.append((Path(s.district_id) / schedule_name(plan, s.id), site_schedule(plan, s.id)))
    if summaries:
        frames = kpis(plan)
        for did in sorted({s.district_id for s in wanted}):
            pages.append((Path(summary_name(plan, did)), district_summary(plan, did, frames)))
    def one(page: tuple[Path, str]) -> dict[Path, bytes]:
        stem, html = page
        out = {stem.with_suffix(".html"): html.encode("utf-8")}
        if pdf:
            out[stem.with_suffix(".pdf")] = html_to_pdf(html, when)
        if on_page is not None:
            on_page(stem.name)
        return out

    files: dict[Path, bytes] = {}
    with ThreadPoolExecutor(max_workers=PDF_WORKERS) as pool:  # each page is its own Chromium process
        for done in pool.map(one, pages):
            files.update(done)
    return files


def write_print(plan: WeekPlan, out_dir: Path, site_ids=None, pdf: bool = True, on_page=None) -> list[Path]:
    """Write `print_files` under `out_dir`, all or none (under the lock of `out_dir`, every path
    checked to lie inside it); the paths written."""
    files = print_files(plan, site_ids, pdf, on_page)
    out_dir = Path(out_dir)
    with OutputRun(out_dir, ()) as run:  # one run at a time on the folder; interrupted runs recovered
        targets = {}
        for rel, data in files.items():
            path = out_dir / rel
            if rel.is_absolute() or ".." in rel.parts or not is_inside(path, out_dir):
                raise ExportError(f"{path}: outside --out {out_dir}; nothing was written")
            targets[path] = data
        try:
            paths = write_all_or_nothing(targets)
        except OSError as exc:
            raise ExportError(f"cannot write the printed pages into {out_dir} ({exc.strerror or exc}); "
                              "nothing was written") from None
        run.commit()
    return paths
