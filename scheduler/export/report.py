"""The report files of a solved week: KPI tables (CSV, XLSX), district HTML pages, index.html, PNG charts.

The tables a district or province forwards (`kpi_site/district/province.csv`, the topic, segment
and relay tables) hold communication figures only; the solver's optimality gap and statuses are
in `kpi_technical.csv` and in the index page's technical section, for planners.

Everything comes from the `WeekPlan` (numbers from `kpis`, pages and charts from `charts`), so a
report can be made anywhere from plan.json alone. Every file is written atomically, and the same
plan gives byte-identical files.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Callable

import pandas as pd

from ..domain import WeekPlan
from ..errors import ExportError
from ..fsutil import write_bytes_atomic
from . import charts
from .i18n import check_lang, label
from .kpis import LEVELS, TABLES, TECHNICAL, kpis, localize
from .levels import words


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM, so Excel opens Vietnamese text correctly."""
    return write_bytes_atomic(path, frame.to_csv(index=False).encode("utf-8-sig"))


def _stamped(xlsx: bytes, when: datetime) -> bytes:
    """The workbook with the plan's date instead of the clock in its zip entries and in
    docProps/core.xml, so the same plan gives the same bytes."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    return out.getvalue()


def write_xlsx(frames: dict[str, pd.DataFrame], path: Path, lang: str = "vi",
               when: datetime = datetime(2024, 1, 1), level_words: dict | None = None) -> Path:
    """One sheet per frame, in order: bold filled header, frozen first row, widths from the content.
    `when` (the plan's week) replaces the clock in the file, for byte-identical reruns;
    `level_words` name the sheets of the reporting unit and the province as the data does."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for level, frame in frames.items():
            sheet = label(f"sheet_{level}", lang, level_words)
            frame.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = PatternFill("solid", fgColor="1F4E79")
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.row_dimensions[1].height = 45
            for idx, col in enumerate(frame.columns, start=1):
                values = [str(v) for v in frame[col].tolist()]
                width = max([len(v) for v in values] + [min(len(str(col)), 24) * 0.8, 8])
                ws.column_dimensions[get_column_letter(idx)].width = min(width + 2, 50)
    return write_bytes_atomic(path, _stamped(buf.getvalue(), when))


def districts_of(plan: WeekPlan) -> list[tuple[str, str]]:
    """(id, name) of the plan's reporting units (groups, districts, or the province when sites
    report straight to it), by name: one report page each."""
    seen: dict[str, str] = {}
    for s in plan.sites:
        seen.setdefault(s.district_id, s.district_name)
    return sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))


def district_filename(district_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in district_id)
    return f"district_{safe}.html"


def default_chart_site(plan: WeekPlan) -> str | None:
    """The site with the most PAR plays (ties: first by id)."""
    counts = Counter(p.site_id for p in plan.placements if p.kind == "segment")
    return min(plan.sites, key=lambda s: (-counts[s.id], s.id)).id if plan.sites else None


def write_report(plan: WeekPlan, out_dir: Path, lang: str = "vi", chart_site: str | None = None,
                 on_district: Callable[[str], None] | None = None) -> list[Path]:
    """CSV per level, kpi.xlsx, one HTML page per district, index.html and PNG charts; the paths written.

    `chart_site` picks the site of the availability chart (default: most PAR plays);
    `on_district(district_id)` is called after each district page (for a progress bar).
    """
    check_lang(lang)
    out_dir = Path(out_dir)
    if chart_site is not None and chart_site not in {s.id for s in plan.sites}:
        raise ExportError(f"site {chart_site!r} is not in the plan of {plan.week}")
    raw = kpis(plan)
    level_words = words(plan, lang)
    forwarded = {k: f.drop(columns=[c for c in TECHNICAL if c in f]) if k in LEVELS else f for k, f in raw.items()}
    shown = {k: localize(forwarded[k], lang, level_words) for k in LEVELS + TABLES}
    written: list[Path] = []
    try:
        for level in LEVELS + TABLES:
            written.append(write_csv(shown[level], out_dir / f"kpi_{level}.csv"))
        written.append(write_xlsx(shown, out_dir / "kpi.xlsx", lang,
                                  when=datetime.combine(plan.monday, datetime.min.time()), level_words=level_words))

        listeners_png = charts.listener_plays_png(raw["district"], lang, level_words)
        written.append(write_bytes_atomic(out_dir / "listener_plays_by_district.png", listeners_png))
        site_id = chart_site or default_chart_site(plan)
        chart_png = charts.availability_png(plan, site_id, lang) if site_id is not None else None
        if chart_png is not None:
            written.append(write_bytes_atomic(out_dir / f"availability_{site_id}.png", chart_png))

        pages = []
        for did, name in districts_of(plan):
            shows_chart = chart_png is not None and plan.site(site_id).district_id == did
            html = charts.district_html(plan, did, forwarded, lang, chart_png=chart_png if shows_chart else None)
            path = write_bytes_atomic(out_dir / district_filename(did), html.encode("utf-8"))
            written.append(path)
            pages.append((did, name, path.name))
            if on_district is not None:
                on_district(did)
        index = charts.index_html(plan, forwarded, pages, listeners_png, lang)
        written.append(write_bytes_atomic(out_dir / "index.html", index.encode("utf-8")))
    except OSError as exc:
        raise ExportError(f"cannot write the report into {out_dir}: {exc}") from exc
    return written
