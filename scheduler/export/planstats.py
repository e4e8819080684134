"""Figures that compare two plans of the same week (the optimiser against the baselines in
`make bench`). Pure, from the plan alone, like the KPIs.

- listener-plays: sum over PAR plays of the expected listeners of the minutes it airs.
- people reached at least once: per site and segment, population x (1 - prod_k (1 - a_k)),
  a_k being the share of the site's people able to hear play k (listeners / population),
  plays assumed heard independently; summed over sites and segments (person-segments).
- priority-weighted reach: listener-plays times the segment's priority (1..5).
- relay delay: minutes deferred relays air after their source time, summed over site-days.
- model reach: the objective's `reach` terms for the same plays (a sync group's once, shared
  by its members' populations), to compare with the priority-weighted reach measured.
- repeats on consecutive days: (site, segment, day) where the segment also aired the day before
  (fewer is better spread over days); dayparts: mean distinct windows per site and segment;
  topics: mean distinct topics per site.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from ..domain import WeekPlan
from ..rules import window_at


@dataclass(frozen=True)
class PlanStats:
    listener_plays: float
    people_reached: float
    weighted_reach: float
    relay_delay_min: int
    consecutive_days: int
    dayparts: float
    topics: float
    plays: int
    model_reach: float  # the `reach` score terms: what the objective counted for the same plays


def plan_stats(plan: WeekPlan, site_ids: set[str] | None = None) -> PlanStats:
    """The figures above over the plan's sites (or `site_ids` only)."""
    items = {(i.kind, i.id): i for i in plan.items}
    sites = {s.id: s for s in plan.sites if site_ids is None or s.id in site_ids}
    # a sync group is solved as one unit and each member's placement carries the unit's score:
    # a member's share of it is its share of the group's people
    group_people: dict[str, int] = defaultdict(int)
    for s in plan.sites:
        if s.sync_group:
            group_people[s.sync_group] += s.population
    unheard: dict[tuple[str, str], float] = defaultdict(lambda: 1.0)
    days: dict[tuple[str, str], set[int]] = defaultdict(set)
    parts: dict[tuple[str, str], set[str]] = defaultdict(set)
    topics: dict[str, set[int]] = defaultdict(set)
    listener_plays = weighted = model_reach = 0.0
    delay = plays = 0
    for p in plan.placements:
        site = sites.get(p.site_id)
        if site is None:
            continue
        item = items[(p.kind, p.item_id)]
        if p.kind == "relay":
            if item.mode == "deferred":
                delay += p.start.hour * 60 + p.start.minute - item.start_min
            continue
        plays += 1
        listener_plays += p.listeners
        weighted += p.listeners * item.priority
        share = site.population / max(1, group_people[site.sync_group]) if site.sync_group else 1.0
        model_reach += dict(p.score).get("reach", 0.0) * share
        key = (p.site_id, p.item_id)
        unheard[key] *= 1.0 - min(1.0, p.listeners / max(1, site.population))
        days[key].add(p.start.weekday())
        window = window_at(site.rules.windows, p.start.hour * 60 + p.start.minute)
        parts[key].add(window.name if window else "")
        topics[p.site_id].add(item.topic)
    reached = sum(sites[sid].population * (1.0 - left) for (sid, _seg), left in unheard.items())
    repeats = sum(1 for ds in days.values() for d in ds if d - 1 in ds)
    return PlanStats(
        listener_plays=listener_plays, people_reached=reached, weighted_reach=weighted, relay_delay_min=delay,
        consecutive_days=repeats, dayparts=_mean(len(v) for v in parts.values()),
        topics=_mean(len(topics.get(s, ())) for s in sites), plays=plays, model_reach=model_reach)


# The figures plans are compared by, each with the direction that is better: +1 more is better,
# -1 less is better. `make bench` and `loa tune` judge dominance on exactly these.
FIGURES: tuple[tuple[str, str, int], ...] = (
    ("listener_plays", "listener-plays", 1),
    ("people_reached", "people reached at least once", 1),
    ("weighted_reach", "priority-weighted reach", 1),
    ("relay_delay_min", "relay delay (min)", -1),
    ("consecutive_days", "repeats on consecutive days", -1),
    ("dayparts", "dayparts per segment", 1),
    ("topics", "topics per site", 1),
)


def dominates(a: PlanStats, b: PlanStats) -> bool:
    """`a` is at least as good as `b` on every figure of FIGURES and better on one: nobody
    choosing by these figures would take `b`."""
    diffs = [sign * (getattr(a, name) - getattr(b, name)) for name, _label, sign in FIGURES]
    return all(d >= 0 for d in diffs) and any(d > 0 for d in diffs)


def _mean(values) -> float:
    values = list(values)
    return math.fsum(values) / len(values) if values else 0.0
