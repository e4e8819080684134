"""KPIs of a solved week per site, district and province, from the plan alone.

Every rule comes from the rules stored in the plan (`PlanSite.rules`), as the verifier reads them:
the plays each segment needs (`rules.segments`), the relays a site carries after blackouts of its
whole sync group (`rules.relays`), the daily cap, broadcast days and session gap. So a report
made after the dataset changed or vanished says the same as one made right after planning. Each
KPI is computed per site, then summed or combined per district and for the province, so the
three levels always agree.

Column keys are English snake_case; `localize(frame, lang)` gives the headers a reader sees.
Listener figures are whole people. People reached at least once and relay coverage per source
are defined in `coverage` (formula and assumption there); besides the three levels, `kpis`
gives the tables by topic, by segment, by relay source and the planner's technical figures.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import pandas as pd

from ..domain import Placement, PlanItem, PlanSite, WeekPlan, placements_by_site, week_days
from ..rules import split_sessions
from . import coverage
from .i18n import LANG_PREFIX, RELAY_PREFIX, label
from .levels import producer_title, words

LEVELS = ("site", "district", "province")  # "district" is the reporting unit: a group, a district or the province
TABLES = ("topic", "segment", "relay", "technical")  # besides the levels; "technical" is for planners
TECHNICAL = ("gap_pct",)  # level columns that judge the solver, not the communication: kept for compare
TEXT_COLUMNS = ("province", "district_id", "district", "district_kind", "site_id", "site")

_SUMS = ("population", "par_plays", "par_minutes", "listener_plays", "people_reached", "required_plays",
         "required_plays_met", "segments_short", "mandatory_relays_due", "mandatory_relays_aired")
_ORDER = ("province", "district_id", "district", "district_kind", "site_id", "site", "sites", "population", "par_plays",
          "par_minutes", "listener_plays", "listener_plays_per_1000", "people_reached", "people_reached_pct",
          "required_plays", "required_plays_met",
          "required_met_pct", "segments_short", "mandatory_relays_due", "mandatory_relays_aired",
          "mandatory_relays_pct", RELAY_PREFIX, "topics_covered", LANG_PREFIX, "daily_cap_minutes",
          "airtime_day_mean_min", "airtime_cap_max_pct", "airtime_cap_mean_pct", "sessions_day_max",
          "sessions_day_mean", "gap_pct")
_ROUND = {"par_minutes": 1, "listener_plays_per_1000": 1, "people_reached_pct": 1, "required_met_pct": 1,
          "mandatory_relays_pct": 1, "airtime_day_mean_min": 1, "airtime_cap_max_pct": 1,
          "airtime_cap_mean_pct": 1, "sessions_day_mean": 2, "gap_pct": 2}
_WHOLE = ("listener_plays", "people_reached")  # people are counted whole
NAN = float("nan")


def _ratio(part: float, whole: float, per: int = 100) -> float:
    """`part` per `per` of `whole` (a percentage by default); unknown (NaN) when `whole` is 0."""
    return per * part / whole if whole else NAN


def _span_s(p: Placement) -> float:
    return (p.end - p.start).total_seconds()


def _air_s(p: Placement, item: PlanItem | None) -> float:
    """Seconds of airtime: the item's length, or less if the placement was cut short."""
    span = _span_s(p)
    return min(span, item.duration_s) if item is not None and item.duration_s > 0 else span


def _site_row(plan: WeekPlan, site: PlanSite, placements: list[Placement],
              items: dict[tuple[str, str], PlanItem], unit_gap: dict[str, float]) -> dict:
    rules = site.rules
    days = week_days(plan.week)
    report_days = [d for d in days if d.weekday() in rules.broadcast_days] or list(days)

    segs = [p for p in placements if p.kind == "segment"]
    listeners = sum(p.listeners for p in segs)
    plays = Counter(p.item_id for p in segs)
    required = dict(rules.segments)
    req_total = sum(required.values())
    req_met = sum(min(plays[s], n) for s, n in required.items())

    due = {(rid, day) for rid, day in rules.relays
           if (relay := items.get(("relay", rid))) is not None and relay.mandatory}
    aired = len(due & {(p.item_id, p.start.date()) for p in placements
                       if p.kind == "relay" and coverage.in_full(p, items.get(("relay", p.item_id)))})

    topics = {items[("segment", p.item_id)].topic for p in segs if ("segment", p.item_id) in items}
    topics.discard(None)

    per_day: dict[date, list[Placement]] = defaultdict(list)
    for p in placements:
        per_day[p.start.date()].append(p)
    air_min = [sum(_air_s(p, items.get((p.kind, p.item_id))) for p in per_day[d]) / 60 for d in report_days]
    sessions = [len(split_sessions(per_day[d], rules.session_gap_minutes)) for d in report_days]
    cap = rules.daily_cap_minutes

    row = {
        "district_id": site.district_id,
        "district": site.district_name,
        "district_kind": site.district_kind,
        "site_id": site.id,
        "site": site.name,
        "population": site.population,
        "par_plays": len(segs),
        "par_minutes": sum(_air_s(p, items.get(("segment", p.item_id))) for p in segs) / 60,
        "listener_plays": listeners,
        "listener_plays_per_1000": _ratio(listeners, site.population, per=1000),
        "people_reached": (reached := coverage.people_reached(site.population, (p.listeners for p in segs))),
        "people_reached_pct": _ratio(reached, site.population),
        "required_plays": req_total,
        "required_plays_met": req_met,
        "required_met_pct": _ratio(req_met, req_total),
        "segments_short": sum(1 for s, n in required.items() if plays[s] < n),
        "mandatory_relays_due": len(due),
        "mandatory_relays_aired": aired,
        "mandatory_relays_pct": _ratio(aired, len(due)),
        "topics_covered": len(topics),
        "daily_cap_minutes": cap,
        "airtime_day_mean_min": sum(air_min) / len(air_min),
        "airtime_cap_max_pct": _ratio(max(air_min), cap),
        "airtime_cap_mean_pct": _ratio(sum(air_min) / len(air_min), cap),
        "sessions_day_max": max(sessions),
        "sessions_day_mean": sum(sessions) / len(sessions),
        "gap_pct": 100 * unit_gap[site.id] if site.id in unit_gap else NAN,
        "_topics": topics,
        "_relays": coverage.relay_coverage(site, placements, items),
    }
    for source, (due, aired_n) in row["_relays"].items():
        row[RELAY_PREFIX + source] = _ratio(aired_n, due)
    lang_s: dict[str, float] = defaultdict(float)
    for p in segs:
        item = items.get(("segment", p.item_id))
        lang_s[item.language if item else "?"] += _air_s(p, item)
    for code, secs in lang_s.items():
        row[LANG_PREFIX + code] = secs / 60
    return row


def _combine(rows: list[dict], lang_keys: list[str]) -> dict:
    """District or province row from its site rows (sums, ratios of sums, max/mean of daily figures)."""
    out: dict = {k: sum(r[k] for r in rows) for k in _SUMS}
    out["sites"] = len(rows)
    for k in lang_keys:
        out[k] = sum(r.get(k, 0.0) for r in rows)
    out["listener_plays_per_1000"] = _ratio(out["listener_plays"], out["population"], per=1000)
    out["people_reached_pct"] = _ratio(out["people_reached"], out["population"])
    relays: dict[str, list[int]] = {}
    for r in rows:
        for source, (due, aired) in r["_relays"].items():
            counts = relays.setdefault(source, [0, 0])
            counts[0] += due
            counts[1] += aired
    for source, (due, aired) in relays.items():
        out[RELAY_PREFIX + source] = _ratio(aired, due)
    out["required_met_pct"] = _ratio(out["required_plays_met"], out["required_plays"])
    out["mandatory_relays_pct"] = _ratio(out["mandatory_relays_aired"], out["mandatory_relays_due"])
    out["topics_covered"] = len(set().union(*(r["_topics"] for r in rows)))

    def known(key):
        return [r[key] for r in rows if r[key] == r[key]]

    for key in ("airtime_day_mean_min", "airtime_cap_mean_pct", "sessions_day_mean"):
        vals = known(key)
        out[key] = sum(vals) / len(vals) if vals else NAN
    for key in ("airtime_cap_max_pct", "sessions_day_max", "gap_pct"):
        out[key] = max(known(key), default=NAN)
    return out


def _frame(rows: list[dict], lang_keys: list[str]) -> pd.DataFrame:
    present = set().union(*(r.keys() for r in rows)) if rows else set()
    cols: list[str] = []
    for c in _ORDER:
        if c == LANG_PREFIX:
            cols.extend(lang_keys)
        elif c == RELAY_PREFIX:
            cols.extend(sorted(k for k in present if k.startswith(RELAY_PREFIX)))
        elif c in present:
            cols.append(c)
    frame = pd.DataFrame([{c: r.get(c, 0.0 if c in lang_keys else None) for c in cols} for r in rows],
                         columns=cols)
    for c in lang_keys:
        frame[c] = frame[c].astype(float).round(1)
    for c, n in _ROUND.items():
        if c in frame:
            frame[c] = frame[c].astype(float).round(n)
    for c in cols:
        if c.startswith(RELAY_PREFIX):
            frame[c] = frame[c].astype(float).round(1)
    for c in _WHOLE:
        if c in frame:
            frame[c] = frame[c].astype(float).round(0).astype("int64")
    return frame


def localize(frame: pd.DataFrame, lang: str = "vi", level_words: dict | None = None) -> pd.DataFrame:
    """The frame with the headers a reader sees; `level_words` (`levels.words(plan)`) name the
    reporting unit and the province as the data does."""
    return frame.rename(columns={c: label(c, lang, level_words) for c in frame.columns})


def kpis(plan: WeekPlan, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """KPI frames 'site', 'district' and 'province' of the plan, and the `TABLES` ('topic',
    'segment', 'relay', 'technical'; see `coverage`).

    With `lang=None` the columns are stable English keys (for code and `compare`); with 'vi' or
    'en' they are the headers a reader sees.
    """
    items = {(i.kind, i.id): i for i in plan.items}
    unit_gap = {sid: u.gap for u in plan.units for sid in u.site_ids}
    by_site = placements_by_site(plan.placements)

    sites = sorted(plan.sites, key=lambda s: (s.district_name, s.district_id, s.name, s.id))
    site_rows = [_site_row(plan, s, by_site[s.id], items, unit_gap) for s in sites]
    lang_keys = sorted({k for r in site_rows for k in r if k.startswith(LANG_PREFIX)},
                       key=lambda k: (k != LANG_PREFIX + "vi", k))

    districts: dict[str, list[dict]] = defaultdict(list)
    for r in site_rows:
        districts[r["district_id"]].append(r)
    district_rows = [{"district_id": did, "district": rows[0]["district"], "district_kind": rows[0]["district_kind"],
                      **_combine(rows, lang_keys)} for did, rows in districts.items()]
    province_rows = ([{"province": plan.province or plan.dataset_name, **_combine(site_rows, lang_keys)}]
                     if site_rows else [])

    frames = {"site": _frame(site_rows, lang_keys), "district": _frame(district_rows, lang_keys),
              "province": _frame(province_rows, lang_keys),
              "topic": coverage.topic_frame(plan), "segment": coverage.segment_frame(plan),
              "relay": coverage.relay_frame(plan), "technical": coverage.technical_frame(plan)}
    if lang is not None:
        frames = {k: localize(f, lang, words(plan, lang)) for k, f in frames.items()}
    return frames


PRODUCER_COLUMNS = ("producer_id", "producer", "par_plays", "par_minutes", "listener_plays")


def producers(plan: WeekPlan, site_ids: set[str] | None = None) -> pd.DataFrame:
    """PAR plays, minutes and listener-plays per producer of the segments (segments.csv `producer`:
    the province, a commune, a district centre, a group), at `site_ids` or every site; most
    listener-plays first. A segment without a producer counts under producer_id ''."""
    items = {i.id: i for i in plan.items if i.kind == "segment"}
    rows: dict[str, dict] = {}
    for p in plan.placements:
        if p.kind != "segment" or (site_ids is not None and p.site_id not in site_ids):
            continue
        item = items.get(p.item_id)
        key = item.producer_id if item is not None else ""
        row = rows.setdefault(key, {"producer_id": key, "producer": producer_title(item) if item else "",
                                    "par_plays": 0, "par_minutes": 0.0, "listener_plays": 0.0})
        row["par_plays"] += 1
        row["par_minutes"] += _air_s(p, item) / 60
        row["listener_plays"] += p.listeners
    frame = pd.DataFrame(sorted(rows.values(), key=lambda r: (-r["listener_plays"], r["producer_id"])),
                         columns=list(PRODUCER_COLUMNS))
    for c in ("par_minutes", "listener_plays"):
        frame[c] = frame[c].astype(float).round(1)
    return frame
