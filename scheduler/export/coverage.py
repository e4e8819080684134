"""Who a week reaches and what it relays, from the plan alone: people reached at least once per
site, segment and topic; relays aired per source; the planner's technical figures.

People reached at least once. A play's expected listeners (plan.json `listeners`: population x
the mean availability share over the minutes it airs) give its share a = listeners / population.
If each play is heard independently of the others, the share of the population who hear none of
the plays i is the product of (1 - a_i), so

    people reached = population x (1 - prod_i (1 - a_i))

summed over sites (a person lives at one site). Per segment the product runs over that
segment's plays at the site, per topic over the plays of the topic's segments, for the site over
all its PAR plays. The independence assumption makes it an upper estimate: the same people tend
to listen at the same hours every day, so repeats reach fewer new people than it says; it is
never above the population, and a single play gives exactly its expected listeners. All figures
are whole people.

Relay coverage per source: of the relays a site carries that week (`rules.relays`: the relay
applies to the site, the site broadcasts that day, no blackout), how many aired in full, by the
relay's `source` (VOV1, VTV1, GLTV, ...).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import pandas as pd

from ..domain import Placement, PlanItem, PlanSite, SolveStatus, WeekPlan, placements_by_site
from .i18n import topic_code, topic_name

Items = dict[tuple[str, str], PlanItem]


def people_reached(population: int, listeners: Iterable[float]) -> float:
    """population x (1 - prod(1 - a_i)), a_i = listeners_i / population clamped to 0..1."""
    if population <= 0:
        return 0.0
    missed = 1.0
    for n in listeners:
        missed *= 1.0 - min(1.0, max(0.0, n / population))
    return population * (1.0 - missed)


def _span_s(p: Placement) -> float:
    return (p.end - p.start).total_seconds()


def in_full(p: Placement, item: PlanItem | None) -> bool:
    """The placement airs the whole item (plans store whole minutes: the last one may be rounded)."""
    return item is None or _span_s(p) >= item.duration_s - 59


def relay_coverage(site: PlanSite, placements: list[Placement], items: Items) -> dict[str, list[int]]:
    """source -> [relays due, relays aired in full] at one site in the week."""
    aired = {(p.item_id, p.start.date()) for p in placements
             if p.kind == "relay" and in_full(p, items.get(("relay", p.item_id)))}
    out: dict[str, list[int]] = {}
    for rid, day in site.rules.relays:
        item = items.get(("relay", rid))
        counts = out.setdefault(item.source if item else rid, [0, 0])
        counts[0] += 1
        counts[1] += (rid, day) in aired
    return out


def _round(frame: pd.DataFrame, whole: tuple[str, ...], one: tuple[str, ...] = ()) -> pd.DataFrame:
    for c in whole:
        frame[c] = frame[c].round(0).astype("int64")
    for c in one:
        frame[c] = frame[c].astype(float).round(1)
    return frame


def _reach_rows(plan: WeekPlan, sites: list[PlanSite], key) -> dict[object, dict]:
    """Plays, minutes, listener-plays, people reached and sites, grouped by `key(item)`."""
    items = {(i.kind, i.id): i for i in plan.items}
    placements = placements_by_site(plan.placements)
    rows: dict[object, dict] = {}
    for site in sites:
        groups: dict[object, list[Placement]] = defaultdict(list)
        for p in placements.get(site.id, []):
            item = items.get((p.kind, p.item_id))
            if p.kind == "segment" and item is not None:
                groups[key(item)].append(p)
        for k, plays in groups.items():
            row = rows.setdefault(k, {"par_plays": 0, "par_minutes": 0.0, "listener_plays": 0.0,
                                      "people_reached": 0.0, "sites_aired": 0})
            row["par_plays"] += len(plays)
            row["par_minutes"] += sum(min(_span_s(p), items[("segment", p.item_id)].duration_s) for p in plays) / 60
            row["listener_plays"] += sum(p.listeners for p in plays)
            row["people_reached"] += people_reached(site.population, (p.listeners for p in plays))
            row["sites_aired"] += 1
    return rows


SUMS = ("par_plays", "par_minutes", "listener_plays", "people_reached", "sites_aired")


def topic_frame(plan: WeekPlan, sites: list[PlanSite] | None = None) -> pd.DataFrame:
    """One row per content area II.1-II.10 (each, aired or not): plays, minutes, listener-plays,
    people reached at least once, sites airing it."""
    rows = _reach_rows(plan, list(plan.sites) if sites is None else sites, lambda item: item.topic)
    empty = dict.fromkeys(SUMS, 0)
    topics = sorted(set(range(1, 11)) | {t for t in rows if t is not None}, key=lambda t: (t is None, t or 0))
    frame = pd.DataFrame([{"topic_code": topic_code(t) or "–", "topic_name": topic_name(t) if t else "–",
                           **(rows.get(t) or empty)} for t in topics],
                         columns=["topic_code", "topic_name", *SUMS])
    return _round(frame, ("listener_plays", "people_reached"), ("par_minutes",))


def segment_frame(plan: WeekPlan, sites: list[PlanSite] | None = None) -> pd.DataFrame:
    """One row per segment aired: its topic, plays, minutes, listener-plays, people reached, sites."""
    rows = _reach_rows(plan, list(plan.sites) if sites is None else sites, lambda item: item.id)
    segs = {i.id: i for i in plan.items if i.kind == "segment"}
    order = sorted(rows, key=lambda sid: (segs[sid].topic or 0, sid))
    frame = pd.DataFrame([{"segment_id": sid, "segment": segs[sid].title, "topic_code": topic_code(segs[sid].topic),
                           **rows[sid]} for sid in order],
                         columns=["segment_id", "segment", "topic_code", *SUMS])
    return _round(frame, ("listener_plays", "people_reached"), ("par_minutes",))


def relay_frame(plan: WeekPlan) -> pd.DataFrame:
    """Relays due and aired in full per district and source, then the province per source."""
    items = {(i.kind, i.id): i for i in plan.items}
    placements = placements_by_site(plan.placements)
    per: dict[tuple[str, str, str], list[int]] = {}
    for site in sorted(plan.sites, key=lambda s: (s.district_name, s.district_id, s.id)):
        for source, (due, aired) in relay_coverage(site, placements.get(site.id, []), items).items():
            for key in ((site.district_id, site.district_name, source), ("", plan.province or plan.dataset_name, source)):
                counts = per.setdefault(key, [0, 0, 0])
                counts[0] += due
                counts[1] += aired
                counts[2] += 1
    rows = [{"district_id": did, "district": name, "source": source, "sites": n, "relays_due": due,
             "relays_aired": aired, "relays_pct": round(100 * aired / due, 1) if due else float("nan")}
            for (did, name, source), (due, aired, n) in sorted(per.items(), key=lambda kv: (kv[0][0] == "", kv[0]))]
    return pd.DataFrame(rows, columns=["district_id", "district", "source", "sites", "relays_due", "relays_aired",
                                       "relays_pct"])


def technical_frame(plan: WeekPlan) -> pd.DataFrame:
    """For planners, per district: units solved, their statuses, objective, bound, worst gap."""
    names = {s.district_id: s.district_name for s in plan.sites}
    by_district: dict[str, list] = defaultdict(list)
    for u in plan.units:
        by_district[u.district_id].append(u)
    rows = []
    for did in sorted(by_district, key=lambda d: (names.get(d, d), d)):
        units = by_district[did]
        planned = [u for u in units if SolveStatus(u.status).planned]
        statuses = defaultdict(int)
        for u in units:
            statuses[str(u.status)] += 1
        rows.append({"district_id": did, "district": names.get(did, did), "units": len(units),
                     "status": ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
                     "objective": round(sum(u.objective for u in planned)), "bound": round(sum(u.bound for u in planned)),
                     "gap_pct": round(100 * max((u.gap for u in planned), default=float("nan")), 2)})
    return pd.DataFrame(rows, columns=["district_id", "district", "units", "status", "objective", "bound", "gap_pct"])
