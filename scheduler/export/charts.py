"""The visual parts of a report: HTML pages (jinja2 templates) and matplotlib PNG charts.

Pages never reference anything outside themselves: the stylesheet (`templates/report.css`) is
inlined, images are data: URIs and a Content-Security-Policy forbids any request, so a page
opened offline looks the same as online. Templates autoescape every value (site names, titles
and weeks come from an untrusted plan file); this module computes what to draw, they draw it.
"""
from __future__ import annotations

import base64
import io
import math
from functools import cache

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..domain import Placement, PlanItem, PlanSite, WeekPlan, placements_by_site, week_days
from .i18n import day_name, label, language_name, number, topic_code, week_title
from .kpis import TEXT_COLUMNS, producers
from .levels import page_words, producer_title, titled, unit_title, words

RELAY_COLOUR = "#37474f"
OPTIONAL_RELAY_COLOUR = "#90a4ae"
TOPIC_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#b8860b", "#bcbd22", "#17becf")
HEAT_STOPS = ((0.0, (255, 255, 229)), (0.25, (254, 227, 145)), (0.5, (254, 153, 41)),
              (0.75, (217, 95, 14)), (1.0, (153, 52, 4)))  # YlOrBr
INDEX_COLUMNS = ("sites", "population", "par_plays", "par_minutes", "listener_plays", "people_reached",
                 "required_met_pct", "mandatory_relays_pct", "topics_covered")

Items = dict[tuple[str, str], PlanItem]


@cache
def _env() -> Environment:
    env = Environment(loader=PackageLoader("scheduler.export", "templates"),
                      autoescape=select_autoescape(("html.j2",), default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["data_uri"] = lambda png: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return env


@cache
def _css(name: str = "report.css") -> Markup:
    """A stylesheet of the package, inlined as it is (our own file, not plan data)."""
    env = _env()
    return Markup(env.loader.get_source(env, name)[0])


def render(template: str, lang: str, stylesheet: str = "report.css", level_words: dict | None = None,
           **context) -> str:
    """A page of the package's templates with the stylesheet inlined and the words of `lang`;
    `level_words` (`levels.words`) name the reporting unit and the province as the data does."""
    return _env().get_template(template).render(
        lang=lang, css=_css(stylesheet), t=lambda key: label(key, lang, level_words), num=lambda v: number(v, lang),
        **context)



# --------------------------------------------------------------------------- colours and words


def topic_colour(topic: int | None) -> str:
    if topic is None or not 1 <= int(topic) <= len(TOPIC_COLOURS):
        return "#9e9e9e"
    return TOPIC_COLOURS[int(topic) - 1]


def item_colour(p: Placement, item: PlanItem | None) -> str:
    return RELAY_COLOUR if p.kind == "relay" else topic_colour(item.topic if item else None)


def heat_colour(value: float) -> str:
    v = min(1.0, max(0.0, float(value)))
    for (x0, c0), (x1, c1) in zip(HEAT_STOPS, HEAT_STOPS[1:]):
        if v <= x1:
            t = (v - x0) / (x1 - x0)
            r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#993404"


def _day_label(plan: WeekPlan, weekday: int, lang: str) -> str:
    return f"{day_name(weekday, lang)} {week_days(plan.week)[weekday]:%d/%m}"


def _block_title(items: Items, p: Placement, lang: str) -> str:
    """What a placement is, for tooltips: title, day, time, source or topic, language."""
    item = items.get((p.kind, p.item_id))
    title = item.title if item else p.item_id
    extra = ""
    if item is not None:
        extra = f" · {item.source}" if p.kind == "relay" else f" · {topic_code(item.topic)}"
        extra += f" · {language_name(item.language, lang)}"
        if p.kind == "segment" and producer_title(item):
            extra += f" · {label('producer', lang)}: {producer_title(item)}"
    return f"{title} — {day_name(p.start.weekday(), lang)} {p.start:%d/%m} {p.start:%H:%M}–{p.end:%H:%M}{extra}"


# --------------------------------------------------------------------------- what each page part shows


def _span_min(p: Placement) -> float:
    return (p.end - p.start).total_seconds() / 60


def _time_range(plan: WeekPlan) -> tuple[int, int]:
    """Hours shown in the grids: every placement of the plan, at least 05:00-21:00."""
    lo, hi = 5 * 60, 21 * 60
    for p in plan.placements:
        start = p.start.hour * 60 + p.start.minute
        end = start + max(1, math.ceil((p.end - p.start).total_seconds() / 60))
        lo, hi = min(lo, start), max(hi, min(end, 1440))
    return (lo // 60) * 60, min(1440, -(-hi // 60) * 60)


def _legend(plan: WeekPlan, lang: str) -> list[tuple[str, str]]:
    topics = sorted({i.topic for i in plan.items if i.kind == "segment" and i.topic is not None})
    entries = [(RELAY_COLOUR, label("relay", lang))]
    if any(i.kind == "relay" and not i.mandatory for i in plan.items):
        entries.append((OPTIONAL_RELAY_COLOUR, label("optional_relay", lang)))
    return entries + [(topic_colour(n), f"{label('topic', lang)} {topic_code(n)}") for n in topics]


def _grid(plan: WeekPlan, placements: list[Placement], items: Items, lang: str, t0: int, t1: int) -> dict:
    """Days x hours: each placement's left edge and width in % of the lane."""
    span = t1 - t0
    rows = []
    for i, day in enumerate(week_days(plan.week)):
        blocks = []
        for p in sorted((p for p in placements if p.start.date() == day), key=lambda p: p.start):
            item = items.get((p.kind, p.item_id))
            start = p.start.hour * 60 + p.start.minute + p.start.second / 60
            left = max(0.0, 100 * (start - t0) / span)
            width = max(0.0, min(100 - left, 100 * _span_min(p) / span))
            if p.kind == "relay":
                cls, colour = "block relay" + ("" if item is None or item.mandatory else " optional"), None
            else:
                topic = item.topic if item else None
                cls, colour = f"block par topic-{topic}", topic_colour(topic)
            blocks.append({"cls": cls, "colour": colour, "left": left, "width": width,
                           "title": _block_title(items, p, lang)})
        rows.append({"label": _day_label(plan, i, lang), "blocks": blocks})
    return {"hour_pct": 100 * 60 / span, "rows": rows,
            "hours": [(h, 100 * (h * 60 - t0) / span) for h in range(t0 // 60, t1 // 60 + 1)]}


def _heatmap(plan: WeekPlan, site: PlanSite, placements: list[Placement], items: Items, lang: str,
             cell_min: int = 30) -> dict | None:
    """Availability (mean per cell of `cell_min` minutes) per day, from the curve stored in the
    plan, with the placements on top; None when the plan has no curve for the site."""
    if not site.audience:
        return None
    left, top, width, row_h = 86, 16, 864, 22
    cells = 1440 // cell_min
    rows = []
    for d, day in enumerate(week_days(plan.week)):
        curve = site.availability(d)
        y = top + d * row_h
        means = [sum(curve[c * cell_min:(c + 1) * cell_min]) / cell_min for c in range(cells)]
        rows.append({
            "y": y, "label": _day_label(plan, d, lang),
            "cells": [{"x": left + c * width / cells, "fill": heat_colour(v),
                       "title": f"{day:%d/%m} {c * cell_min // 60:02d}:{c * cell_min % 60:02d} – {round(100 * v)}%"}
                      for c, v in enumerate(means)],
            "marks": [{"kind": p.kind, "x": left + (p.start.hour * 60 + p.start.minute) / 1440 * width,
                       "width": max(2.5, _span_min(p) / 1440 * width), "title": _block_title(items, p, lang)}
                      for p in placements if p.start.date() == day],
        })
    return {"left": left, "view_width": left + width + 8, "height": top + 7 * row_h + 26, "row_height": row_h,
            "cell_width": width / cells, "hours": [(left + h * 60 / 1440 * width, h) for h in range(0, 25, 2)],
            "rows": rows, "scale": [heat_colour(i / 49) for i in range(50)], "scale_y": top + 7 * row_h + 8}


def _agenda(plan: WeekPlan, placements: list[Placement], items: Items, lang: str) -> list[dict]:
    """Per day, the items aired in time order."""
    days = []
    for i, day in enumerate(week_days(plan.week)):
        entries = []
        for p in sorted((p for p in placements if p.start.date() == day), key=lambda p: p.start):
            item = items.get((p.kind, p.item_id))
            entries.append({"time": f"{p.start:%H:%M}", "title": item.title if item else p.item_id,
                            "colour": item_colour(p, item),
                            "producer": producer_title(item) if item is not None and p.kind == "segment" else ""})
        days.append({"label": _day_label(plan, i, lang), "entries": entries})
    return days


# --------------------------------------------------------------------------- pages


def district_html(plan: WeekPlan, district_id: str, raw: dict[str, pd.DataFrame], lang: str = "vi",
                  chart_png: bytes | None = None) -> str:
    """One page: the district's KPI table, then per site a grid, an availability heatmap and a
    list of items; `chart_png` (the availability chart) closes the page."""
    items = {(i.kind, i.id): i for i in plan.items}
    sites = sorted((s for s in plan.sites if s.district_id == district_id), key=lambda s: (s.name, s.id))
    dname = unit_title(sites[0]) if sites else district_id
    level_words = page_words(plan, sites[0].district_kind if sites else "", lang)
    drow = raw["district"][raw["district"]["district_id"] == district_id].to_dict("records")
    srows = {r["site_id"]: r for r in raw["site"].to_dict("records")}
    columns = ([(label("district_total", lang, level_words), row) for row in drow]
               + [(s.name, srows.get(s.id, {})) for s in sites])
    t0, t1 = _time_range(plan)
    by_site = placements_by_site(plan.placements)
    views = []
    for s in sites:
        placements = by_site[s.id]
        views.append({"id": s.id, "name": s.name, "grid": _grid(plan, placements, items, lang, t0, t1),
                      "heat": _heatmap(plan, s, placements, items, lang),
                      "agenda": _agenda(plan, placements, items, lang)})
    return render("district.html.j2", lang, level_words=level_words,
                  title=f"{label('report', lang)} — {dname} — {week_title(plan.week, lang)}",
                  district=dname, week=week_title(plan.week, lang), columns=columns,
                  keys=[c for c in raw["site"].columns if c not in TEXT_COLUMNS],
                  legend=_legend(plan, lang), sites=views, chart_png=chart_png,
                  producers=_producer_rows(plan, {s.id for s in sites}, lang))


def _producer_rows(plan: WeekPlan, site_ids: set[str] | None, lang: str) -> list[dict]:
    """Who made what aired: one row per producer (segments.csv `producer`)."""
    return [{**r, "producer": r["producer"] or label("producer_unknown", lang)}
            for r in producers(plan, site_ids).to_dict("records")]


def index_html(plan: WeekPlan, raw: dict[str, pd.DataFrame], pages: list[tuple[str, str, str]],
               listeners_png: bytes, lang: str = "vi") -> str:
    """The province's KPIs, one line per district page `(district id, name, file name)`, the
    tables by topic and by relay source, and a technical section for planners (`raw` may hold
    'topic', 'relay' and 'technical' frames, as `kpis` gives them)."""
    prov = raw["province"].to_dict("records")
    drows = {r["district_id"]: r for r in raw["district"].to_dict("records")}
    name = prov[0]["province"] if prov else plan.province or plan.dataset_name
    name = titled(plan.province_kind, name)

    def table(key: str) -> dict | None:
        frame = raw.get(key)
        if frame is None:
            return None
        return {"columns": [c for c in frame.columns if c != "district_id"], "rows": frame.to_dict("records")}

    return render("index.html.j2", lang, level_words=words(plan, lang),
                  title=f"{label('report', lang)} — {name} — {week_title(plan.week, lang)}",
                  province=prov[0] if prov else None, province_name=name,
                  keys=[c for c in raw["province"].columns if c not in TEXT_COLUMNS],
                  columns=INDEX_COLUMNS, listeners_png=listeners_png,
                  districts=[{"file": f, "name": titled(drows.get(did, {}).get("district_kind", ""), n),
                              "row": drows.get(did, {})} for did, n, f in pages],
                  producers=_producer_rows(plan, None, lang),
                  topics=table("topic"), relays=table("relay"), technical=table("technical"))


# --------------------------------------------------------------------------- matplotlib PNGs


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _figure_png(fig) -> bytes:
    """PNG bytes without a software stamp, so the same plan gives the same file."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return buf.getvalue()


def listener_plays_png(district_frame: pd.DataFrame, lang: str = "vi", level_words: dict | None = None) -> bytes:
    """Horizontal bars: expected listener-plays of PAR items per reporting unit."""
    plt = _pyplot()
    frame = district_frame.sort_values("listener_plays") if len(district_frame) else district_frame
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * max(1, len(frame))))
    ax.barh(list(frame["district"]) if len(frame) else [], list(frame["listener_plays"]) if len(frame) else [],
            color="#1f77b4")
    ax.set_xlabel(label("listener_plays", lang))
    ax.set_title(label("listener_plays_by_district", lang, level_words), fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return _figure_png(fig)


def availability_png(plan: WeekPlan, site_id: str, lang: str = "vi") -> bytes | None:
    """One row per day: the site's availability curve with its placements as coloured spans;
    None when the plan has no curve for the site."""
    site = plan.site(site_id)
    if not site.audience:
        return None
    plt = _pyplot()
    items = {(i.kind, i.id): i for i in plan.items}
    fig, axes = plt.subplots(7, 1, figsize=(10, 8), sharex=True, sharey=True)
    hours = [m / 60 for m in range(1440)]
    for d, (ax, day) in enumerate(zip(axes, week_days(plan.week))):
        curve = site.availability(d)
        ax.fill_between(hours, curve, step="post", color="#fdae6b", alpha=0.6, linewidth=0)
        ax.plot(hours, curve, color="#d94801", linewidth=0.8, drawstyle="steps-post")
        for p in plan.placements:
            if p.site_id != site_id or p.start.date() != day:
                continue
            a = p.start.hour + p.start.minute / 60
            b = a + max(_span_min(p) / 60, 0.06)  # short items stay visible
            ax.axvspan(a, b, color=item_colour(p, items.get((p.kind, p.item_id))), alpha=0.85, linewidth=0)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"{day_name(d, lang)[:8]}\n{day:%d/%m}", rotation=0, ha="right", va="center", fontsize=8)
        ax.set_yticks([0, 0.5, 1])
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    axes[-1].set_xlim(0, 24)
    axes[-1].set_xticks(range(0, 25, 2))
    axes[-1].set_xlabel(label("hour", lang))
    fig.suptitle(f"{label('availability', lang)} — {site.name} — {plan.week}", fontsize=11)
    fig.tight_layout()
    return _figure_png(fig)
