"""Reports of a solved week: KPI tables (CSV, XLSX), district HTML pages, charts, plan comparison.

Reports read only the `WeekPlan` (and, when given, the `Dataset` for segment rules, relay grids,
policies and audience availability). Every KPI is computed per site, then summed or combined
per district and for the province, so the three levels always agree.

Column keys are English snake_case; `labels(lang)` gives the Vietnamese or English headers.
"""
from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

import pandas as pd

from ..domain import Dataset, Placement, PlanItem, PlanSite, WeekPlan, week_days
from ..errors import ExportError
from ..fsutil import write_bytes_atomic

DEFAULT_SESSION_GAP_MIN = 10
LEVELS = ("site", "district", "province")

# key -> (Vietnamese, English)
_LABELS: dict[str, tuple[str, str]] = {
    "province": ("Tỉnh", "Province"),
    "district_id": ("Mã huyện", "District ID"),
    "district": ("Huyện", "District"),
    "site_id": ("Mã đài", "Site ID"),
    "site": ("Đài truyền thanh", "Site"),
    "sites": ("Số đài", "Sites"),
    "population": ("Dân số", "Population"),
    "par_plays": ("Lượt phát CCHC", "PAR plays"),
    "par_minutes": ("Phút phát CCHC", "PAR minutes"),
    "listener_plays": ("Lượt người nghe dự kiến", "Expected listener-plays"),
    "listener_plays_per_1000": ("Lượt nghe / 1.000 dân", "Listener-plays per 1,000 inhabitants"),
    "required_plays": ("Lượt phát yêu cầu", "Required plays"),
    "required_plays_met": ("Lượt yêu cầu đã đạt", "Required plays met"),
    "required_met_pct": ("Tỷ lệ đạt lượt yêu cầu (%)", "Required plays met (%)"),
    "segments_short": ("Số bài chưa đủ lượt", "Segments short of plays"),
    "mandatory_relays_due": ("Tiếp sóng bắt buộc phải phát", "Mandatory relays due"),
    "mandatory_relays_aired": ("Tiếp sóng bắt buộc đã phát trọn", "Mandatory relays aired in full"),
    "mandatory_relays_pct": ("Tỷ lệ tiếp sóng trọn (%)", "Mandatory relays aired (%)"),
    "topics_covered": ("Chủ đề đã phủ (trên 10)", "Topics covered (of 10)"),
    "daily_cap_minutes": ("Giới hạn phút/ngày", "Daily cap (min)"),
    "airtime_day_mean_min": ("Thời lượng TB/ngày (phút)", "Mean airtime per day (min)"),
    "airtime_cap_max_pct": ("Thời lượng/giới hạn, ngày cao nhất (%)", "Airtime vs cap, busiest day (%)"),
    "airtime_cap_mean_pct": ("Thời lượng/giới hạn, trung bình (%)", "Airtime vs cap, mean (%)"),
    "sessions_day_max": ("Số buổi phát/ngày (tối đa)", "Sessions per day (max)"),
    "sessions_day_mean": ("Số buổi phát/ngày (TB)", "Sessions per day (mean)"),
    "gap_pct": ("Khoảng cách tối ưu (%)", "Optimality gap (%)"),
}
_LANG_NAMES = {
    "vi": ("tiếng Việt", "Vietnamese"),
    "jra": ("tiếng Jrai", "Jrai"),
    "bdq": ("tiếng Ba Na", "Bahnar"),
    "bahnar": ("tiếng Ba Na", "Bahnar"),
    "jrai": ("tiếng Jrai", "Jrai"),
    "en": ("tiếng Anh", "English"),
}
LANG_PREFIX = "par_min_lang_"
SHEET_NAMES = {"vi": ("Đài", "Huyện", "Tỉnh"), "en": ("Sites", "Districts", "Province")}
DAY_LABELS = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _check_lang(lang: str) -> int:
    if lang not in ("vi", "en"):
        raise ExportError(f"unknown report language {lang!r}; use 'vi' or 'en'")
    return 0 if lang == "vi" else 1


def language_name(code: str, lang: str = "vi") -> str:
    names = _LANG_NAMES.get(code.lower())
    return names[_check_lang(lang)] if names else code


def label(key: str, lang: str = "vi") -> str:
    """The header a reader sees for a KPI column key."""
    i = _check_lang(lang)
    if key.startswith(LANG_PREFIX):
        code = key[len(LANG_PREFIX):]
        return ("Phút CCHC – {}", "PAR minutes – {}")[i].format(language_name(code, lang))
    return _LABELS[key][i] if key in _LABELS else key


def localize(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    return frame.rename(columns={c: label(c, lang) for c in frame.columns})


# --------------------------------------------------------------------------- per-site facts


def _span_s(p: Placement) -> float:
    return (p.end - p.start).total_seconds()


def _air_s(p: Placement, item: PlanItem | None) -> float:
    """Seconds of airtime: the item's length, or less if the placement was cut short."""
    span = _span_s(p)
    return min(span, item.duration_s) if item is not None and item.duration_s > 0 else span


def _in_full(p: Placement, item: PlanItem | None) -> bool:
    # plans store whole minutes; allow the last minute to be rounded
    return item is None or _span_s(p) >= item.duration_s - 59


def _sessions(placements: list[Placement], gap_min: int) -> int:
    """Runs of placements whose gaps are shorter than `gap_min` count as one session."""
    count, last_end = 0, None
    for p in sorted(placements, key=lambda p: p.start):
        if last_end is None or (p.start - last_end).total_seconds() >= gap_min * 60:
            count += 1
        last_end = p.end if last_end is None else max(last_end, p.end)
    return count


def _policy(dataset: Dataset | None, ds_site):
    if dataset is None or ds_site is None:
        return None
    try:
        from ..policy import site_policy
    except ImportError:  # policy module not available: caps and gaps fall back to defaults
        return None
    return site_policy(dataset, ds_site)


def _required_segments(plan: WeekPlan, dataset: Dataset | None, site: PlanSite, ds_site,
                       broadcast_days: list[date]) -> dict[str, int]:
    """segment id -> plays required at this site this week (as `solver/verify.py` counts them)."""
    if dataset is not None and ds_site is not None:
        required = {}
        for s in dataset.segments:
            if s.language not in ds_site.languages or not dataset.in_scope(ds_site, s.scope):
                continue
            valid = [d for d in broadcast_days
                     if (s.valid_from is None or d >= s.valid_from) and (s.valid_to is None or d <= s.valid_to)]
            if min(s.min_plays, len(valid)) > 0:
                required[s.id] = min(s.min_plays, len(valid))
        return required
    return {
        i.id: min(i.min_plays, len(broadcast_days))
        for i in plan.items
        if i.kind == "segment" and i.min_plays > 0 and i.language in site.languages
    }


def _relays_due(dataset: Dataset | None, ds_site, placements: list[Placement], items: dict,
                broadcast_days: list[date]) -> set[tuple[str, date]]:
    """(relay id, date) of every mandatory relay the site must carry this week (blackouts excused)."""
    if dataset is None or ds_site is None:
        return {
            (p.item_id, p.start.date())
            for p in placements
            if p.kind == "relay" and getattr(items.get(("relay", p.item_id)), "mandatory", False)
        }
    due = set()
    for r in dataset.relays:
        if (not r.mandatory or ds_site.kind not in r.site_kinds or r.language not in ds_site.languages
                or not dataset.in_scope(ds_site, r.scope)):
            continue
        for day in broadcast_days:
            if day.weekday() not in r.days:
                continue
            start = datetime.combine(day, datetime.min.time()) + timedelta(minutes=r.start_min)
            end = start + timedelta(seconds=r.duration_s)
            blacked = any(
                b.start < end and start < b.end and dataset.in_scope(ds_site, b.scope)
                for b in dataset.blackouts
            )
            if not blacked:
                due.add((r.id, day))
    return due


def _site_row(plan: WeekPlan, dataset: Dataset | None, site: PlanSite, placements: list[Placement],
              items: dict, ds_sites: dict, unit_gap: dict) -> dict:
    ds_site = ds_sites.get(site.id)
    policy = _policy(dataset, ds_site)
    gap_min = policy.session_gap_minutes if policy is not None else DEFAULT_SESSION_GAP_MIN
    cap = policy.daily_cap_minutes if policy is not None else float("nan")
    days = week_days(plan.week)
    report_days = [d for d in days if policy is None or d.weekday() in policy.broadcast_days] or list(days)

    segs = [p for p in placements if p.kind == "segment"]
    par_s = sum(_air_s(p, items.get(("segment", p.item_id))) for p in segs)
    listeners = sum(p.listeners for p in segs)

    required = _required_segments(plan, dataset, site, ds_site, report_days)
    plays = Counter(p.item_id for p in segs)
    req_total = sum(required.values())
    req_met = sum(min(plays[s], n) for s, n in required.items())

    due = _relays_due(dataset, ds_site, placements, items, report_days)
    aired_full = {
        (p.item_id, p.start.date())
        for p in placements
        if p.kind == "relay" and _in_full(p, items.get(("relay", p.item_id)))
    }
    aired = len(due & aired_full)

    topics = {items[("segment", p.item_id)].topic for p in segs if ("segment", p.item_id) in items}
    topics.discard(None)

    per_day: dict[date, list[Placement]] = defaultdict(list)
    for p in placements:
        per_day[p.start.date()].append(p)
    air_min = [sum(_air_s(p, items.get((p.kind, p.item_id))) for p in per_day[d]) / 60 for d in report_days]
    sessions = [_sessions(per_day[d], gap_min) for d in report_days]

    row = {
        "district_id": site.district_id,
        "district": site.district_name,
        "site_id": site.id,
        "site": site.name,
        "population": site.population,
        "par_plays": len(segs),
        "par_minutes": par_s / 60,
        "listener_plays": listeners,
        "listener_plays_per_1000": listeners / site.population * 1000 if site.population else float("nan"),
        "required_plays": req_total,
        "required_plays_met": req_met,
        "required_met_pct": 100 * req_met / req_total if req_total else float("nan"),
        "segments_short": sum(1 for s, n in required.items() if plays[s] < n),
        "mandatory_relays_due": len(due),
        "mandatory_relays_aired": aired,
        "mandatory_relays_pct": 100 * aired / len(due) if due else float("nan"),
        "topics_covered": len(topics),
        "daily_cap_minutes": cap,
        "airtime_day_mean_min": sum(air_min) / len(air_min),
        "airtime_cap_max_pct": 100 * max(air_min) / cap if cap and cap == cap else float("nan"),
        "airtime_cap_mean_pct": 100 * sum(air_min) / len(air_min) / cap if cap and cap == cap else float("nan"),
        "sessions_day_max": max(sessions),
        "sessions_day_mean": sum(sessions) / len(sessions),
        "gap_pct": 100 * unit_gap[site.id] if site.id in unit_gap else float("nan"),
        "_topics": topics,
    }
    lang_s: dict[str, float] = defaultdict(float)
    for p in segs:
        item = items.get(("segment", p.item_id))
        lang_s[item.language if item else "?"] += _air_s(p, item)
    for code, secs in lang_s.items():
        row[LANG_PREFIX + code] = secs / 60
    return row


_SUMS = ("population", "par_plays", "par_minutes", "listener_plays", "required_plays", "required_plays_met",
         "segments_short", "mandatory_relays_due", "mandatory_relays_aired")


def _combine(rows: list[dict], lang_keys: list[str]) -> dict:
    """District or province row from its site rows (sums, ratios of sums, max/mean of daily figures)."""
    out: dict = {k: sum(r[k] for r in rows) for k in _SUMS}
    out["sites"] = len(rows)
    for k in lang_keys:
        out[k] = sum(r.get(k, 0.0) for r in rows)
    pop, req, due = out["population"], out["required_plays"], out["mandatory_relays_due"]
    out["listener_plays_per_1000"] = out["listener_plays"] / pop * 1000 if pop else float("nan")
    out["required_met_pct"] = 100 * out["required_plays_met"] / req if req else float("nan")
    out["mandatory_relays_pct"] = 100 * out["mandatory_relays_aired"] / due if due else float("nan")
    out["topics_covered"] = len(set().union(*(r["_topics"] for r in rows)))

    def _max(key):
        vals = [r[key] for r in rows if r[key] == r[key]]
        return max(vals) if vals else float("nan")

    def _mean(key):
        vals = [r[key] for r in rows if r[key] == r[key]]
        return sum(vals) / len(vals) if vals else float("nan")

    out["airtime_day_mean_min"] = _mean("airtime_day_mean_min")
    out["airtime_cap_max_pct"] = _max("airtime_cap_max_pct")
    out["airtime_cap_mean_pct"] = _mean("airtime_cap_mean_pct")
    out["sessions_day_max"] = _max("sessions_day_max")
    out["sessions_day_mean"] = _mean("sessions_day_mean")
    out["gap_pct"] = _max("gap_pct")
    return out


_ORDER = ["province", "district_id", "district", "site_id", "site", "sites", "population", "par_plays",
          "par_minutes", "listener_plays", "listener_plays_per_1000", "required_plays", "required_plays_met",
          "required_met_pct", "segments_short", "mandatory_relays_due", "mandatory_relays_aired",
          "mandatory_relays_pct", "topics_covered", "LANGS", "daily_cap_minutes", "airtime_day_mean_min",
          "airtime_cap_max_pct", "airtime_cap_mean_pct", "sessions_day_max", "sessions_day_mean", "gap_pct"]
_ROUND = {"par_minutes": 1, "listener_plays": 1, "listener_plays_per_1000": 1, "required_met_pct": 1,
          "mandatory_relays_pct": 1, "airtime_day_mean_min": 1, "airtime_cap_max_pct": 1,
          "airtime_cap_mean_pct": 1, "sessions_day_mean": 2, "gap_pct": 2}


def _frame(rows: list[dict], lang_keys: list[str]) -> pd.DataFrame:
    cols: list[str] = []
    present = set().union(*(r.keys() for r in rows)) if rows else set()
    for c in _ORDER:
        if c == "LANGS":
            cols.extend(lang_keys)
        elif c in present:
            cols.append(c)
    frame = pd.DataFrame([{c: r.get(c, 0.0 if c in lang_keys else None) for c in cols} for r in rows],
                         columns=cols)
    for c in lang_keys:
        frame[c] = frame[c].astype(float).round(1)
    for c, n in _ROUND.items():
        if c in frame:
            frame[c] = frame[c].astype(float).round(n)
    return frame


def province_name(plan: WeekPlan, dataset: Dataset | None) -> str:
    if dataset is not None:
        roots = [a for a in dataset.areas if a.parent_id is None]
        if len(roots) == 1:
            return roots[0].name
    return plan.dataset_name


def kpis(plan: WeekPlan, dataset: Dataset | None = None, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """KPI frames 'site', 'district' and 'province'.

    With `lang=None` the columns are stable English keys (for code and `compare`); with 'vi' or 'en'
    they are the headers a reader sees. Without a dataset, required plays come from
    `PlanItem.min_plays` (segments in a site's languages), mandatory relays due are the ones the
    plan placed, and daily caps are unknown (NaN).
    """
    items = {(i.kind, i.id): i for i in plan.items}
    ds_sites = {s.id: s for s in dataset.sites} if dataset is not None else {}
    unit_gap = {sid: u.gap for u in plan.units for sid in u.site_ids}
    by_site: dict[str, list[Placement]] = defaultdict(list)
    for p in plan.placements:
        by_site[p.site_id].append(p)

    sites = sorted(plan.sites, key=lambda s: (s.district_name, s.district_id, s.name, s.id))
    site_rows = [_site_row(plan, dataset, s, by_site[s.id], items, ds_sites, unit_gap) for s in sites]
    lang_keys = sorted({k for r in site_rows for k in r if k.startswith(LANG_PREFIX)},
                       key=lambda k: (k != LANG_PREFIX + "vi", k))

    districts: dict[str, list[dict]] = defaultdict(list)
    for r in site_rows:
        districts[r["district_id"]].append(r)
    district_rows = []
    for did, rows in districts.items():
        district_rows.append({"district_id": did, "district": rows[0]["district"], **_combine(rows, lang_keys)})
    province_rows = [{"province": province_name(plan, dataset), **_combine(site_rows, lang_keys)}] if site_rows else []

    frames = {
        "site": _frame(site_rows, lang_keys),
        "district": _frame(district_rows, lang_keys),
        "province": _frame(province_rows, lang_keys),
    }
    if lang is not None:
        frames = {k: localize(f, lang) for k, f in frames.items()}
    return frames


# --------------------------------------------------------------------------- CSV and XLSX


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
               when: datetime = datetime(2024, 1, 1)) -> Path:
    """One sheet per level: bold filled header, frozen first row, widths from the content.
    `when` (the plan's week) replaces the clock in the file, for byte-identical reruns."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    buf = io.BytesIO()
    names = dict(zip(LEVELS, SHEET_NAMES[lang]))
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for level in LEVELS:
            frame = frames[level]
            frame.to_excel(writer, sheet_name=names[level], index=False)
            ws = writer.sheets[names[level]]
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


# --------------------------------------------------------------------------- the whole report


def write_report(plan: WeekPlan, out_dir: Path, lang: str = "vi", dataset: Dataset | None = None,
                 chart_site: str | None = None,
                 on_district: Callable[[str], None] | None = None) -> list[Path]:
    """CSV per level, kpi.xlsx, one HTML page per district, index.html and PNG charts.

    `chart_site` picks the site of the availability chart (default: most PAR plays);
    `on_district(district_id)` is called after each district page (for a progress bar).
    """
    from . import charts

    _check_lang(lang)
    out_dir = Path(out_dir)
    if chart_site is not None and chart_site not in {s.id for s in plan.sites}:
        raise ExportError(f"site {chart_site!r} is not in the plan of {plan.week}")
    raw = kpis(plan, dataset)
    shown = {k: localize(f, lang) for k, f in raw.items()}
    written: list[Path] = []
    try:
        for level in LEVELS:
            written.append(write_csv(shown[level], out_dir / f"kpi_{level}.csv"))
        written.append(write_xlsx(shown, out_dir / "kpi.xlsx", lang,
                                  when=datetime.combine(plan.monday, datetime.min.time())))

        pngs: dict[str, Path] = {}
        png = charts.listener_plays_png(raw["district"], lang)
        pngs["listeners"] = write_bytes_atomic(out_dir / "listener_plays_by_district.png", png)
        site_id = chart_site or default_chart_site(plan, raw)
        if dataset is not None and site_id is not None:
            png = charts.availability_png(plan, dataset, site_id, lang)
            if png is not None:
                pngs["availability"] = write_bytes_atomic(out_dir / f"availability_{site_id}.png", png)
        written.extend(pngs.values())

        pages = []
        for did, name in districts_of(plan):
            html = charts.district_html(plan, did, raw, dataset, lang,
                                        chart_site=site_id, chart_png=pngs.get("availability"))
            path = write_bytes_atomic(out_dir / district_filename(did), html.encode("utf-8"))
            written.append(path)
            pages.append((did, name, path.name))
            if on_district is not None:
                on_district(did)
        index = charts.index_html(plan, raw, pages, lang, listeners_png=pngs["listeners"])
        written.append(write_bytes_atomic(out_dir / "index.html", index.encode("utf-8")))
    except OSError as exc:
        raise ExportError(f"cannot write the report into {out_dir}: {exc}") from exc
    return written


def districts_of(plan: WeekPlan) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for s in plan.sites:
        seen.setdefault(s.district_id, s.district_name)
    return sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))


def district_filename(district_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in district_id)
    return f"district_{safe}.html"


def default_chart_site(plan: WeekPlan, raw: dict[str, pd.DataFrame] | None = None) -> str | None:
    """The site with the most PAR plays (ties: first by id)."""
    counts = Counter(p.site_id for p in plan.placements if p.kind == "segment")
    if not plan.sites:
        return None
    return min(plan.sites, key=lambda s: (-counts[s.id], s.id)).id


# --------------------------------------------------------------------------- compare


_COMPARE_KEYS = ("par_plays", "par_minutes", "listener_plays", "listener_plays_per_1000", "required_met_pct",
                 "mandatory_relays_pct", "topics_covered", "airtime_cap_max_pct", "sessions_day_mean",
                 "sessions_day_max", "gap_pct")


def _num(v):
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return None
    return int(v) if v.is_integer() else round(v, 3)


def _deltas(row_a: dict | None, row_b: dict | None, keys) -> dict:
    out = {}
    for k in keys:
        a = _num(row_a.get(k)) if row_a else None
        b = _num(row_b.get(k)) if row_b else None
        d = None if a is None or b is None else _num(b - a)
        out[k] = {"a": a, "b": b, "delta": d}
    return out


def placement_changes(plan_a: WeekPlan, plan_b: WeekPlan) -> dict[str, Counter]:
    """Per site: unchanged, moved (same site+item+date, other time), added, removed placements."""
    def group(plan):
        g: dict[tuple, list[datetime]] = defaultdict(list)
        for p in plan.placements:
            g[(p.site_id, p.kind, p.item_id, p.start.date())].append(p.start)
        return g

    ga, gb = group(plan_a), group(plan_b)
    per_site: dict[str, Counter] = defaultdict(Counter)
    for key in set(ga) | set(gb):
        a, b = Counter(ga.get(key, [])), Counter(gb.get(key, []))
        same = sum((a & b).values())
        rest_a, rest_b = sum(a.values()) - same, sum(b.values()) - same
        moved = min(rest_a, rest_b)
        c = per_site[key[0]]
        c["unchanged"] += same
        c["moved"] += moved
        c["added"] += rest_b - moved
        c["removed"] += rest_a - moved
    return per_site


def plan_dataset(plan: WeekPlan) -> Dataset:
    """The plan's dataset with the settings recorded in the plan re-applied, as `loa plan` used them.

    `plan.settings` holds ("policy", FILE) for `--policy FILE` and ("set", "key=value") for each
    `--set`; like `loa plan`, the policy file is applied first, then the `--set` values in order
    (`scheduler.pipeline.prepare_dataset`). A relative FILE is read from the current folder, as
    it was given to `loa plan`. Raises LoaError when the dataset, the policy file or a value
    cannot be used. Settings of another kind are ignored.
    """
    from ..pipeline import prepare_dataset

    policy_file: Path | None = None
    sets: list[str] = []
    for kind, value in plan.settings:
        if kind == "policy":
            policy_file = Path(value)
        elif kind == "set":
            sets.append(value)
    return prepare_dataset(Path(plan.dataset_root), policy_file, tuple(sets))


_SAME = object()


def compare(plan_a: WeekPlan, plan_b: WeekPlan, dataset: Dataset | None = None, top: int = 10,
            dataset_b: Dataset | None = _SAME) -> dict:  # type: ignore[assignment]
    """What changed from plan A to plan B: KPI deltas, placement moves and the sites that changed most.

    `dataset` is used for plan A's KPIs, and for plan B's too unless `dataset_b` is given (each
    plan may have been made with other settings: see `plan_dataset`).
    """
    if dataset_b is _SAME:
        dataset_b = dataset
    ka, kb = kpis(plan_a, dataset), kpis(plan_b, dataset_b)
    prov_a = ka["province"].to_dict("records")
    prov_b = kb["province"].to_dict("records")
    keys = [k for k in _COMPARE_KEYS if k in ka["province"] or k in kb["province"]]
    da = {r["district_id"]: r for r in ka["district"].to_dict("records")}
    db = {r["district_id"]: r for r in kb["district"].to_dict("records")}
    districts = []
    for did in sorted(set(da) | set(db), key=lambda d: ((da.get(d) or db.get(d))["district"], d)):
        districts.append({"district_id": did, "district": (da.get(did) or db.get(did))["district"],
                          "kpis": _deltas(da.get(did), db.get(did), keys)})

    per_site = placement_changes(plan_a, plan_b)
    totals = Counter()
    for c in per_site.values():
        totals.update(c)
    names = {s.id: s.name for s in plan_a.sites} | {s.id: s.name for s in plan_b.sites}
    ranked = sorted(
        ((sid, c) for sid, c in per_site.items() if c["moved"] + c["added"] + c["removed"]),
        key=lambda kv: (-(kv[1]["moved"] + kv[1]["added"] + kv[1]["removed"]), kv[0]),
    )
    return {
        "week_a": plan_a.week,
        "week_b": plan_b.week,
        "province": {
            "name": (prov_b or prov_a or [{"province": ""}])[0]["province"],
            "kpis": _deltas(prov_a[0] if prov_a else None, prov_b[0] if prov_b else None, keys),
        },
        "districts": districts,
        "placements": {k: totals[k] for k in ("unchanged", "moved", "added", "removed")},
        "top_sites": [
            {"site_id": sid, "site": names.get(sid, sid), "moved": c["moved"], "added": c["added"],
             "removed": c["removed"], "changes": c["moved"] + c["added"] + c["removed"]}
            for sid, c in ranked[:top]
        ],
    }


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"


def _fmt_delta(v) -> str:
    if v is None:
        return "–"
    return ("+" if v > 0 else "") + _fmt(v)


def format_compare(result: dict, lang: str = "en") -> str:
    """A plain-text table of `compare()` for the terminal."""
    lines = []
    pl = result["placements"]
    lines.append(f"{result['week_a']} -> {result['week_b']}")
    lines.append("")
    w = max(len(label(k, lang)) for k in result["province"]["kpis"]) + 2
    head = ("KPI", "A", "B", "Δ")
    lines.append(f"{result['province']['name']}")
    lines.append(f"  {head[0]:<{w}}{head[1]:>14}{head[2]:>14}{head[3]:>12}")
    for k, v in result["province"]["kpis"].items():
        lines.append(f"  {label(k, lang):<{w}}{_fmt(v['a']):>14}{_fmt(v['b']):>14}{_fmt_delta(v['delta']):>12}")
    lines.append("")
    cols = ("par_plays", "listener_plays", "required_met_pct", "mandatory_relays_pct")
    dw = max([len(d["district"]) for d in result["districts"]] + [8]) + 2
    cw = [max(len(label(c, lang)), 18) + 2 for c in cols]
    lines.append("  B (Δ)")
    lines.append(f"  {label('district', lang):<{dw}}" + "".join(f"{label(c, lang):>{w}}" for c, w in zip(cols, cw)))
    for d in result["districts"]:
        cells = []
        for c, w in zip(cols, cw):
            v = d["kpis"][c]
            cells.append(f"{_fmt(v['b']) + ' (' + _fmt_delta(v['delta']) + ')':>{w}}")
        lines.append(f"  {d['district']:<{dw}}" + "".join(cells))
    lines.append("")
    lines.append(f"placements: {pl['moved']} moved, {pl['added']} added, {pl['removed']} removed, "
                 f"{pl['unchanged']} unchanged")
    if result["top_sites"]:
        lines.append("sites that changed most:")
        for s in result["top_sites"]:
            lines.append(f"  {s['site']} ({s['site_id']}): {s['changes']} "
                         f"({s['moved']} moved, {s['added']} added, {s['removed']} removed)")
    return "\n".join(lines)


def compare_json(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=1)
