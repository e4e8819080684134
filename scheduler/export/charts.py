"""Visual parts of the report: self-contained HTML pages (inline CSS/SVG) and matplotlib PNG charts.

Pages never reference anything outside themselves: styles are inline, images are data: URIs and a
Content-Security-Policy forbids any request, so a page opened offline looks the same as online.
"""
from __future__ import annotations

import base64
import html
import io
import math
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..domain import Dataset, Placement, WeekPlan, week_days
from .report import DAY_LABELS, label, language_name

RELAY_COLOUR = "#37474f"
OPTIONAL_RELAY_COLOUR = "#90a4ae"
TOPIC_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#b8860b", "#bcbd22", "#17becf")
HEAT_STOPS = ((0.0, (255, 255, 229)), (0.25, (254, 227, 145)), (0.5, (254, 153, 41)),
              (0.75, (217, 95, 14)), (1.0, (153, 52, 4)))  # YlOrBr
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_T = {
    "vi": {
        "report": "Báo cáo tuyên truyền CCHC", "week": "Tuần", "kpis": "Chỉ số", "total": "Toàn huyện",
        "grid": "Lịch phát trong tuần", "heat": "Mức sẵn sàng nghe của người dân và các bài phát",
        "relay": "Tiếp sóng", "optional_relay": "Tiếp sóng không bắt buộc", "topic": "Chủ đề",
        "agenda": "Danh sách bài phát", "no_data": "Không có dữ liệu khán giả (cần bộ dữ liệu) – bỏ qua bản đồ nhiệt.",
        "districts": "Các huyện", "province_kpis": "Chỉ số toàn tỉnh", "chart": "Biểu đồ",
        "availability": "Đường sẵn sàng nghe và các bài phát", "back": "← Mục lục", "metric": "Chỉ số",
        "value": "Giá trị", "none": "Không có bài phát", "low": "thấp", "high": "cao",
        "placed": "Bài phát / tiếp sóng",
    },
    "en": {
        "report": "PAR communication report", "week": "Week", "kpis": "KPIs", "total": "District total",
        "grid": "Weekly schedule", "heat": "Audience availability with the placements on top",
        "relay": "Relay", "optional_relay": "Optional relay", "topic": "Topic",
        "agenda": "Items aired", "no_data": "No audience data (needs the dataset) – heatmap skipped.",
        "districts": "Districts", "province_kpis": "Province KPIs", "chart": "Chart",
        "availability": "Availability curve and placements", "back": "← Index", "metric": "KPI",
        "value": "Value", "none": "Nothing aired", "low": "low", "high": "high",
        "placed": "Placement (item or relay)",
    },
}

CSS = """
*{box-sizing:border-box}
body{font-family:"DejaVu Sans","Noto Sans",Arial,sans-serif;margin:16px;color:#222;font-size:13px}
h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:18px 0 6px}h3{font-size:13px;margin:10px 0 4px}
a{color:#1f4e79}
table.kpi{border-collapse:collapse;font-size:12px}
table.kpi th,table.kpi td{border:1px solid #bbb;padding:2px 6px}
table.kpi th{background:#1f4e79;color:#fff;text-align:left}
table.kpi th a{color:#fff}
table.kpi td.n{text-align:right;font-variant-numeric:tabular-nums}
table.kpi tr:nth-child(even) td{background:#f3f6fa}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:11px;margin:4px 0}
.legend span.sw{display:inline-block;width:12px;height:12px;vertical-align:middle;margin-right:3px;border:1px solid #0003}
.grid{position:relative;margin:4px 0 8px;border:1px solid #999}
.grid .hours{position:relative;height:16px;margin-left:92px;border-bottom:1px solid #999}
.grid .hours span{position:absolute;top:1px;font-size:10px;transform:translateX(-50%)}
.grid .row{display:flex;border-top:1px solid #ddd}
.grid .day{width:92px;flex:none;font-size:11px;padding:3px 4px;background:#f5f5f5;border-right:1px solid #999}
.grid .lane{position:relative;flex:1;height:28px;
  background-image:repeating-linear-gradient(to right,#e4e4e4 0 1px,transparent 1px var(--hour))}
.block{position:absolute;top:3px;bottom:3px;min-width:3px;border-radius:2px;border:1px solid #0005}
.block.relay{background:repeating-linear-gradient(45deg,#37474f 0 3px,#546e7a 3px 6px)}
.block.relay.optional{background:#90a4ae}
svg.heat{width:100%;height:auto;display:block}
svg.heat text{font-size:10px;fill:#333}
svg.heat rect.mark{fill:#111;stroke:#fff;stroke-width:1}
.agenda{width:100%;border-collapse:collapse;table-layout:fixed;font-size:10px}
.agenda th{background:#eee;border:1px solid #bbb;padding:2px}
.agenda td{border:1px solid #bbb;vertical-align:top;padding:2px 3px;line-height:1.25}
.agenda .it{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.agenda .sw{display:inline-block;width:7px;height:7px;margin-right:2px}
img.chart{max-width:100%;border:1px solid #ddd}
.note{color:#666;font-style:italic}
section.site{margin-top:20px}
@page{size:A4 landscape;margin:8mm}
@media print{
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  body{margin:0;font-size:9px}
  nav,.noprint{display:none}
  h1{font-size:14px}h2{font-size:12px;margin:0 0 3px}h3{font-size:10px;margin:4px 0 2px}
  section.site{break-before:page;page-break-before:always;break-inside:avoid;page-break-inside:avoid;margin:0}
  section.charts{break-before:page;page-break-before:always}
  .grid .lane{height:7mm}.grid .day{font-size:8px;padding:1px 2px}
  svg.heat{max-height:52mm}
  .agenda{font-size:7px}.agenda td{line-height:1.15;padding:1px 2px}
  table.kpi{font-size:8px}
  img.chart{max-width:100%;max-height:175mm;width:auto;height:auto;border:0}
}
"""


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _hhmm(dt: datetime) -> str:
    return dt.strftime("%H:%M")


def topic_colour(topic: int | None) -> str:
    if topic is None or not 1 <= int(topic) <= len(TOPIC_COLOURS):
        return "#9e9e9e"
    return TOPIC_COLOURS[int(topic) - 1]


def heat_colour(value: float) -> str:
    v = min(1.0, max(0.0, float(value)))
    for (x0, c0), (x1, c1) in zip(HEAT_STOPS, HEAT_STOPS[1:]):
        if v <= x1:
            t = (v - x0) / (x1 - x0)
            r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#993404"


def _fmt_value(v, lang: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, str):
        return _esc(v)
    f = float(v)
    text = f"{f:,.0f}" if f.is_integer() else f"{f:,.2f}".rstrip("0").rstrip(".")
    if lang == "vi":  # 1.234,5
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def _kpi_table(columns: list[tuple[str, dict]], keys: list[str], lang: str) -> str:
    """Metrics as rows, one column per entity (fits A4 however many KPIs there are)."""
    t = _T[lang]
    out = ['<table class="kpi"><thead><tr><th>' + _esc(t["metric"]) + "</th>"]
    out += [f"<th>{_esc(name)}</th>" for name, _ in columns]
    out.append("</tr></thead><tbody>")
    for k in keys:
        out.append(f"<tr><th>{_esc(label(k, lang))}</th>")
        out += [f'<td class="n">{_fmt_value(row.get(k), lang)}</td>' for _, row in columns]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_NUMERIC_SKIP = {"district_id", "district", "site_id", "site", "province"}


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _time_range(plan: WeekPlan) -> tuple[int, int]:
    """Hours shown in the grids: every placement of the plan, at least 05:00-21:00."""
    lo, hi = 5 * 60, 21 * 60
    for p in plan.placements:
        start = p.start.hour * 60 + p.start.minute
        end = start + max(1, math.ceil((p.end - p.start).total_seconds() / 60))
        lo, hi = min(lo, start), max(hi, min(end, 1440))
    return (lo // 60) * 60, min(1440, -(-hi // 60) * 60)


def _legend(plan: WeekPlan, lang: str) -> str:
    t = _T[lang]
    topics = sorted({i.topic for i in plan.items if i.kind == "segment" and i.topic is not None})
    parts = [f'<span><span class="sw" style="background:{RELAY_COLOUR}"></span>{_esc(t["relay"])}</span>']
    if any(i.kind == "relay" and not i.mandatory for i in plan.items):
        parts.append(f'<span><span class="sw" style="background:{OPTIONAL_RELAY_COLOUR}"></span>'
                     f'{_esc(t["optional_relay"])}</span>')
    parts += [f'<span><span class="sw" style="background:{topic_colour(n)}"></span>{_esc(t["topic"])} {n}</span>'
              for n in topics]
    return '<div class="legend">' + "".join(parts) + "</div>"


def _block_title(plan: WeekPlan, p: Placement, lang: str) -> str:
    items = {(i.kind, i.id): i for i in plan.items}
    item = items.get((p.kind, p.item_id))
    title = item.title if item else p.item_id
    day = DAY_LABELS[lang][p.start.weekday()]
    extra = ""
    if item is not None:
        extra = f" · {item.source}" if p.kind == "relay" else f" · {_T[lang]['topic']} {item.topic}"
        extra += f" · {language_name(item.language, lang)}"
    return f"{title} — {day} {p.start:%d/%m} {_hhmm(p.start)}–{_hhmm(p.end)}{extra}"


def _grid(plan: WeekPlan, placements: list[Placement], lang: str, t0: int, t1: int) -> str:
    """Days x hours with one absolutely positioned `.block` per placement."""
    items = {(i.kind, i.id): i for i in plan.items}
    span = t1 - t0
    hour_pct = 100 * 60 / span
    out = [f'<div class="grid" style="--hour:{hour_pct:.4f}%"><div class="hours">']
    for h in range(t0 // 60, t1 // 60 + 1):
        out.append(f'<span style="left:{100 * (h * 60 - t0) / span:.3f}%">{h:02d}</span>')
    out.append("</div>")
    for i, day in enumerate(week_days(plan.week)):
        out.append(f'<div class="row"><div class="day">{_esc(DAY_LABELS[lang][i])} {day:%d/%m}</div>'
                   f'<div class="lane">')
        for p in sorted((p for p in placements if p.start.date() == day), key=lambda p: p.start):
            item = items.get((p.kind, p.item_id))
            start = p.start.hour * 60 + p.start.minute + p.start.second / 60
            dur = (p.end - p.start).total_seconds() / 60
            left = max(0.0, 100 * (start - t0) / span)
            width = max(0.0, min(100 - left, 100 * dur / span))
            if p.kind == "relay":
                cls = "block relay" + ("" if item is None or item.mandatory else " optional")
                style = ""
            else:
                topic = item.topic if item else None
                cls = f"block par topic-{topic}"
                style = f"background:{topic_colour(topic)};"
            out.append(f'<div class="{cls}" style="{style}left:{left:.3f}%;width:{width:.3f}%" '
                       f'title="{_esc(_block_title(plan, p, lang))}"></div>')
        out.append("</div></div>")
    out.append("</div>")
    return "".join(out)


def _agenda(plan: WeekPlan, placements: list[Placement], lang: str) -> str:
    """Seven columns listing the day's items: the part of the wall sheet people actually read."""
    items = {(i.kind, i.id): i for i in plan.items}
    days = week_days(plan.week)
    out = ['<table class="agenda"><thead><tr>']
    out += [f"<th>{_esc(DAY_LABELS[lang][i])} {d:%d/%m}</th>" for i, d in enumerate(days)]
    out.append("</tr></thead><tbody><tr>")
    for day in days:
        cell = []
        for p in sorted((p for p in placements if p.start.date() == day), key=lambda p: p.start):
            item = items.get((p.kind, p.item_id))
            colour = RELAY_COLOUR if p.kind == "relay" else topic_colour(item.topic if item else None)
            title = item.title if item else p.item_id
            cell.append(f'<div class="it" title="{_esc(title)}"><span class="sw" style="background:{colour}">'
                        f"</span>{_hhmm(p.start)} {_esc(title)}</div>")
        out.append("<td>" + ("".join(cell) or f'<span class="note">{_esc(_T[lang]["none"])}</span>') + "</td>")
    out.append("</tr></tbody></table>")
    return "".join(out)


def _availability_week(dataset: Dataset, plan: WeekPlan, site_id: str) -> list[tuple[float, ...]] | None:
    site = {s.id: s for s in dataset.sites}.get(site_id)
    if site is None:
        return None
    try:
        from ..audience import availability
    except ImportError:
        return None
    return [tuple(availability(dataset, site, day)) for day in week_days(plan.week)]


def _heatmap_svg(plan: WeekPlan, placements: list[Placement], curves: list[tuple[float, ...]],
                 lang: str, cell_min: int = 30) -> str:
    """Hours x days of availability (mean per cell), the placements as dark marks on top."""
    left, top, width, row_h = 86, 16, 864, 22
    cells = 1440 // cell_min
    cw = width / cells
    height = top + 7 * row_h + 26
    days = week_days(plan.week)
    out = [f'<svg class="heat" viewBox="0 0 {left + width + 8} {height}" role="img">']
    for h in range(0, 25, 2):
        out.append(f'<text x="{left + h * 60 / 1440 * width:.1f}" y="11" text-anchor="middle">{h:02d}</text>')
    for d, (day, curve) in enumerate(zip(days, curves)):
        y = top + d * row_h
        out.append(f'<text x="2" y="{y + 15}">{_esc(DAY_LABELS[lang][d])} {day:%d/%m}</text>')
        for c in range(cells):
            chunk = curve[c * cell_min:(c + 1) * cell_min]
            v = sum(chunk) / len(chunk) if chunk else 0.0
            out.append(f'<rect class="cell" x="{left + c * cw:.2f}" y="{y}" width="{cw + 0.3:.2f}" '
                       f'height="{row_h}" fill="{heat_colour(v)}"><title>{day:%d/%m} '
                       f'{c * cell_min // 60:02d}:{c * cell_min % 60:02d} – {round(100 * v)}%</title></rect>')
        for p in (p for p in placements if p.start.date() == day):
            start = p.start.hour * 60 + p.start.minute
            dur = (p.end - p.start).total_seconds() / 60
            x = left + start / 1440 * width
            out.append(f'<rect class="mark {p.kind}" x="{x:.2f}" y="{y + 6}" width="{max(2.5, dur / 1440 * width):.2f}" '
                       f'height="{row_h - 12}"><title>{_esc(_block_title(plan, p, lang))}</title></rect>')
    # colour scale
    ly = top + 7 * row_h + 8
    for i in range(50):
        out.append(f'<rect x="{left + i * 4}" y="{ly}" width="4.3" height="10" fill="{heat_colour(i / 49)}"/>')
    t = _T[lang]
    out.append(f'<text x="{left - 4}" y="{ly + 9}" text-anchor="end">0% {_esc(t["low"])}</text>')
    out.append(f'<text x="{left + 204}" y="{ly + 9}">100% {_esc(t["high"])}</text>')
    out.append(f'<rect class="mark" x="{left + 300}" y="{ly}" width="10" height="10"/>'
               f'<text x="{left + 316}" y="{ly + 9}">{_esc(t["placed"])}</text>')
    out.append("</svg>")
    return "".join(out)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def district_html(plan: WeekPlan, district_id: str, raw: dict[str, pd.DataFrame], dataset: Dataset | None,
                  lang: str = "vi", chart_site: str | None = None, chart_png: Path | None = None) -> str:
    """One self-contained page: KPI table, then per site a grid, an availability heatmap and a list."""
    t = _T[lang]
    sites = sorted((s for s in plan.sites if s.district_id == district_id), key=lambda s: (s.name, s.id))
    drow = raw["district"][raw["district"]["district_id"] == district_id].to_dict("records")
    srows = {r["site_id"]: r for r in raw["site"].to_dict("records")}
    dname = sites[0].district_name if sites else district_id
    keys = [c for c in raw["site"].columns if c not in _NUMERIC_SKIP]
    columns = ([(t["total"], drow[0])] if drow else []) + [(s.name, srows.get(s.id, {})) for s in sites]

    title = f"{t['report']} — {dname} — {t['week']} {plan.week}"
    body = [f'<nav class="noprint"><a href="index.html">{_esc(t["back"])}</a></nav>',
            f"<h1>{_esc(title)}</h1>",
            f'<section class="kpis"><h2>{_esc(t["kpis"])}</h2>{_kpi_table(columns, keys, lang)}</section>']
    t0, t1 = _time_range(plan)
    by_site: dict[str, list[Placement]] = {s.id: [] for s in sites}
    for p in plan.placements:
        if p.site_id in by_site:
            by_site[p.site_id].append(p)
    legend = _legend(plan, lang)
    for s in sites:
        ps = by_site[s.id]
        body.append(f'<section class="site" id="site-{_esc(s.id)}">')
        body.append(f"<h2>{_esc(s.name)} — {_esc(dname)} — {_esc(t['week'])} {plan.week}</h2>")
        body.append(f"<h3>{_esc(t['grid'])}</h3>{legend}{_grid(plan, ps, lang, t0, t1)}")
        curves = _availability_week(dataset, plan, s.id) if dataset is not None else None
        body.append(f"<h3>{_esc(t['heat'])}</h3>")
        if curves is not None:
            body.append(_heatmap_svg(plan, ps, curves, lang))
        else:
            body.append(f'<p class="note">{_esc(t["no_data"])}</p>')
        body.append(f"<h3>{_esc(t['agenda'])}</h3>{_agenda(plan, ps, lang)}")
        body.append("</section>")
    if chart_png is not None and chart_site in by_site:
        body.append(f'<section class="charts"><h2>{_esc(t["availability"])}</h2>'
                    f'<img class="chart" alt="" src="{_data_uri(Path(chart_png).read_bytes())}"></section>')
    return _page(title, "".join(body), lang)


def index_html(plan: WeekPlan, raw: dict[str, pd.DataFrame], pages: list[tuple[str, str, str]],
               lang: str = "vi", listeners_png: Path | None = None) -> str:
    t = _T[lang]
    prov = raw["province"].to_dict("records")
    title = f"{t['report']} — {prov[0]['province'] if prov else plan.dataset_name} — {t['week']} {plan.week}"
    body = [f"<h1>{_esc(title)}</h1>"]
    if prov:
        keys = [c for c in raw["province"].columns if c not in _NUMERIC_SKIP]
        body.append(f"<h2>{_esc(t['province_kpis'])}</h2>"
                    + _kpi_table([(prov[0]["province"], prov[0])], keys, lang))
    cols = ["sites", "population", "par_plays", "par_minutes", "listener_plays", "listener_plays_per_1000",
            "required_met_pct", "mandatory_relays_pct", "topics_covered"]
    drows = {r["district_id"]: r for r in raw["district"].to_dict("records")}
    body.append(f"<h2>{_esc(t['districts'])}</h2><table class=\"kpi\"><thead><tr>"
                f"<th>{_esc(label('district', lang))}</th>"
                + "".join(f"<th>{_esc(label(c, lang))}</th>" for c in cols) + "</tr></thead><tbody>")
    for did, name, fname in pages:
        row = drows.get(did, {})
        body.append(f'<tr><th><a href="{_esc(fname)}">{_esc(name)}</a></th>'
                    + "".join(f'<td class="n">{_fmt_value(row.get(c), lang)}</td>' for c in cols) + "</tr>")
    body.append("</tbody></table>")
    if listeners_png is not None:
        body.append(f'<h2>{_esc(label("listener_plays", lang))}</h2>'
                    f'<img class="chart" alt="" src="{_data_uri(Path(listeners_png).read_bytes())}">')
    return _page(title, "".join(body), lang)


# --------------------------------------------------------------------------- matplotlib PNGs


def _figure_png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def listener_plays_png(district_frame: pd.DataFrame, lang: str = "vi") -> bytes:
    """Horizontal bars: expected listener-plays of PAR items per district."""
    plt = _pyplot()
    frame = district_frame.sort_values("listener_plays") if len(district_frame) else district_frame
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * max(1, len(frame))))
    ax.barh(list(frame["district"]) if len(frame) else [], list(frame["listener_plays"]) if len(frame) else [],
            color="#1f77b4")
    ax.set_xlabel(label("listener_plays", lang))
    ax.set_title(label("listener_plays", lang) + (" theo huyện" if lang == "vi" else " by district"), fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return _figure_png(fig)


def availability_png(plan: WeekPlan, dataset: Dataset, site_id: str, lang: str = "vi") -> bytes | None:
    """One row per day: the availability curve with the site's placements as coloured spans."""
    curves = _availability_week(dataset, plan, site_id)
    if curves is None:
        return None
    plt = _pyplot()
    items = {(i.kind, i.id): i for i in plan.items}
    site = plan.site(site_id)
    days = week_days(plan.week)
    fig, axes = plt.subplots(7, 1, figsize=(10, 8), sharex=True, sharey=True)
    hours = [m / 60 for m in range(1440)]
    for ax, day, curve, name in zip(axes, days, curves, DAY_LABELS[lang]):
        ax.fill_between(hours, curve, step="post", color="#fdae6b", alpha=0.6, linewidth=0)
        ax.plot(hours, curve, color="#d94801", linewidth=0.8, drawstyle="steps-post")
        for p in plan.placements:
            if p.site_id != site_id or p.start.date() != day:
                continue
            a = p.start.hour + p.start.minute / 60
            b = a + max((p.end - p.start).total_seconds() / 3600, 0.06)  # short items stay visible
            item = items.get((p.kind, p.item_id))
            colour = RELAY_COLOUR if p.kind == "relay" else topic_colour(item.topic if item else None)
            ax.axvspan(a, b, color=colour, alpha=0.85, linewidth=0)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"{name[:8]}\n{day:%d/%m}", rotation=0, ha="right", va="center", fontsize=8)
        ax.set_yticks([0, 0.5, 1])
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    axes[-1].set_xlim(0, 24)
    axes[-1].set_xticks(range(0, 25, 2))
    axes[-1].set_xlabel("giờ" if lang == "vi" else "hour")
    fig.suptitle(f"{_T[lang]['availability']} — {site.name} — {plan.week}", fontsize=11)
    fig.tight_layout()
    return _figure_png(fig)
