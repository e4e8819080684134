"""A week under way: keep what has aired, solve only the rest again, and say what changed.

A re-plan from a cut-off keeps every placement that starts before it exactly as it was, and
solves the rest of the week again around it (`solver.problem.Pinned`), with a stability weight
so that items stay where they were unless moving them gains more. Only units whose inputs
changed since the plan (`cache.unit_inputs`, recorded per unit in plan.json) or that a
bulletin reaches are solved; every other unit is kept as it is, so re-planning one district
merges into the province's plan and `plan.json` always holds the whole province.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..domain import Dataset, Placement, SolveStatus, WeekPlan, placements_by_site
from ..errors import BugError, DataError, Problem
from ..rules import DAY
from ..solver.cache import SolutionCache, unit_inputs
from ..solver.problem import Airing, Pinned, Unit, build_units
from ..solver.run import GAP_LIMIT, plan_items, plan_week
from ..solver.model import SEED
from ..verify import verify

WEEK_MINUTES = 7 * DAY
SHIFT_MINUTES = 15  # a move within this, on the same day, is a shift in its session, not a move


@dataclass(frozen=True)
class Change:
    """One difference, at one site, between the previous plan and the re-plan (after the cut-off)."""

    site_id: str
    change: str  # added | moved | shifted (same day, at most SHIFT_MINUTES) | removed
    kind: str  # relay | segment
    item_id: str
    before: datetime | None = None
    after: datetime | None = None


@dataclass(frozen=True)
class Replanned:
    plan: WeekPlan
    changes: tuple[Change, ...]
    solved: tuple[str, ...]  # unit ids solved again
    changed_sites: frozenset[str]  # sites whose schedule may differ (their exports are rewritten)
    kept: int  # units of the plan left exactly as they were
    infeasible: dict[str, list[str]] = field(default_factory=dict)  # unit -> conflicts (kept as before)
    stats: dict = field(default_factory=dict)


def parse_cutoff(text: str, week: str, option: str = "--from") -> datetime:
    """'YYYY-MM-DD HH:MM' local time inside the plan's week (its Monday 00:00 .. Sunday 24:00)."""
    from ..domain import week_monday

    try:
        when = datetime.strptime(text.strip().replace("T", " "), "%Y-%m-%d %H:%M")
    except ValueError:
        raise DataError(Problem(option, None, option.lstrip("-"), text,
                                "a local time 'YYYY-MM-DD HH:MM' (Asia/Ho_Chi_Minh)")) from None
    monday = datetime.combine(week_monday(week), datetime.min.time())
    if not monday <= when <= monday + timedelta(days=7):
        raise DataError(Problem(option, None, option.lstrip("-"), text,
                                f"a time inside the plan's week {week} ({monday:%Y-%m-%d} 00:00 .. "
                                f"{monday + timedelta(days=6):%Y-%m-%d} 24:00)"))
    return when


def week_minute(plan: WeekPlan, when: datetime) -> int:
    monday = datetime.combine(plan.monday, datetime.min.time())
    return int((when - monday).total_seconds() // 60)


def _airing(plan: WeekPlan, p: Placement) -> Airing:
    m = week_minute(plan, p.start)
    return Airing(p.kind, p.item_id, m // DAY, m % DAY, p.minutes, -1)


def replan_week(old: WeekPlan, dataset: Dataset, cutoff: datetime, site_ids: set[str] | None = None, *,
                free_until: int | None = None, inserted: dict[str, tuple[Placement, ...]] | None = None,
                overriding: frozenset[str] = frozenset(), lead: str = "", workers: int | None = None,
                cache: SolutionCache | None = None, settings: tuple[tuple[str, str], ...] = (),
                progress=None) -> Replanned:
    """Re-plan `old` from `cutoff` with `dataset` (which may have gained items or changed rules).
    `old` is a checked plan (`planfile.plan_problems` finds nothing in it, checked by the caller
    before anything is written): the sites a re-plan leaves alone are not verified again.

    `site_ids` limits the re-plan to some sites (a district); the others keep their schedule.
    `free_until` (a week minute at a midnight) also keeps everything from then on, so a bulletin
    re-solves only its day. `inserted` are placements to add and keep (emergency bulletins, by
    site; every member of a sync group gets the same), and `overriding` the item ids that are
    outside the session and cap rules (emergency bulletins, which every re-plan keeps). `lead`
    is a priority bulletin that must open each re-planned site's next session.

    With `free_until`, a unit that cannot be re-planned within that span is re-planned again with
    one more day, and so on to the end of the week (its displaced items may need another day)."""
    inserted = inserted or {}
    start = week_minute(old, cutoff)
    monday = datetime.combine(old.monday, datetime.min.time())
    by_site = placements_by_site(old.placements)
    old_units = {u.unit_id: u for u in old.units}
    overriding = frozenset(overriding) | frozenset(i.id for i in old.items if i.level == "emergency")
    until_of: dict[str, int] = {}  # site -> end of its free span

    def kept(p: Placement) -> bool:
        m = week_minute(old, p.start)
        return m < start or m >= until_of.get(p.site_id, WEEK_MINUTES) or p.item_id in overriding

    def pin(unit: Unit, until: int) -> Pinned:
        for s in unit.sites:
            until_of[s.id] = until
        placements = by_site.get(unit.sites[0].id, ())
        keep = [_airing(old, p) for p in placements if kept(p)]
        keep += [_airing(old, p) for p in inserted.get(unit.sites[0].id, ())]
        return Pinned(start, until, tuple(sorted(keep, key=lambda a: (a.week_minute, a.kind, a.item_id))),
                      overriding & {a.item_id for a in keep},
                      tuple(_airing(old, p) for p in placements if not kept(p)), lead)

    planned = {s.id for s in old.sites}  # a re-plan changes the plan's sites, it adds none (`loa plan` does)
    units = [u for u in build_units(dataset, site_ids) if any(s.id in planned for s in u.sites)]
    touched = [u for u in units if not _unchanged(old, old_units.get(u.id), dataset, u) or u.sites[0].id in inserted]
    pins = {u.id: pin(u, WEEK_MINUTES if free_until is None else free_until) for u in touched}
    freezes = {s.id: pins[u.id].freeze(monday) for u in touched for s in u.sites}
    stats: dict = {"units": len(units), "solved": len(touched)}
    partial = None
    if touched:
        partial = _solve(old, dataset, touched, pins, freezes, workers, cache, settings, stats, progress)
        until = free_until
        stuck = {u.unit_id for u in partial.units if not SolveStatus(u.status).planned}
        while stuck and until is not None and until < WEEK_MINUTES:  # the span was too short for them:
            until = min(WEEK_MINUTES, until + DAY)  # one more day, as far as the week's end
            wider = [u for u in touched if u.id in stuck]
            pins |= {u.id: pin(u, until) for u in wider}
            again = _solve(old, dataset, wider, pins, freezes, workers, cache, settings, {}, None)
            moved = {s.id for u in wider for s in u.sites}
            partial = replace(
                partial, units=tuple(u for u in partial.units if u.unit_id not in stuck) + again.units,
                sites=tuple(s for s in partial.sites if s.id not in moved) + again.sites,
                placements=tuple(p for p in partial.placements if p.site_id not in moved) + again.placements)
            stuck = {u.unit_id for u in again.units if not SolveStatus(u.status).planned}
    plan, infeasible = _merge(old, dataset, partial, by_site, kept, inserted, settings)
    # the other sites are as in `old`, which the caller checks (`planfile.plan_problems`)
    broken = verify(plan, {s.id for u in touched for s in u.sites})
    if broken:
        raise BugError("the re-planned week breaks hard rules:\n" + "\n".join(f"  - {b}" for b in broken[:30]))
    return Replanned(plan, changes(old, plan, cutoff), tuple(u.id for u in touched),
                     frozenset(s.id for u in touched for s in u.sites), len(old.units) - len(touched), infeasible, stats)


def _unchanged(old: WeekPlan, before, dataset: Dataset, unit: Unit) -> bool:
    """The unit was planned, with the same sites, from the same inputs: its schedule stands."""
    return (before is not None and bool(before.inputs) and SolveStatus(before.status).planned
            and before.site_ids == tuple(s.id for s in unit.sites)
            and before.inputs == unit_inputs(dataset, old.week, unit, GAP_LIMIT, SEED))


def _solve(old, dataset, units, pins, freezes, workers, cache, settings, stats, progress) -> WeekPlan:
    ids = {u.id for u in units}
    return plan_week(dataset, old.week, site_ids={s.id for u in units for s in u.sites}, workers=workers,
                     progress=progress, settings=settings, cache=cache, stats=stats,
                     pinned={k: v for k, v in pins.items() if k in ids}, freezes=freezes)


def kept_previous(conflicts) -> list[str]:
    """A unit's conflicts when it keeps the schedule it had (a re-plan, or a plan of some sites
    into the week's plan), said first."""
    return ["kept the previous schedule: " + (conflicts[0] if conflicts else "no schedule found")] + list(conflicts[1:])


def merge_sites(old: WeekPlan, dataset: Dataset, fresh: WeekPlan,
                settings: tuple[tuple[str, str], ...] = ()) -> WeekPlan:
    """`fresh`, a plan of some sites from scratch, in place of those sites in `old`, the week's
    plan they go into: the other sites keep their schedule, and a unit `fresh` could not plan
    keeps its previous one."""
    return _merge(old, dataset, fresh, placements_by_site(old.placements), lambda p: False, {}, settings)[0]


def _merge(old: WeekPlan, dataset: Dataset, partial: WeekPlan | None, by_site: dict[str, list[Placement]], kept,
           inserted: dict[str, tuple[Placement, ...]],
           settings: tuple[tuple[str, str], ...]) -> tuple[WeekPlan, dict[str, list[str]]]:
    """The whole province again: re-solved units from `partial` (their kept placements added back),
    every other unit, site and placement from `old`. A unit that cannot be re-planned keeps its
    previous schedule and is reported."""
    sites = {s.id: s for s in old.sites}
    units = {u.unit_id: u for u in old.units}
    placements = dict(by_site)
    infeasible: dict[str, list[str]] = {}
    new_sites = {s.id: s for s in partial.sites} if partial else {}
    new_by_site = placements_by_site(partial.placements if partial else ())
    for result in partial.units if partial else ():
        if not SolveStatus(result.status).planned:
            infeasible[result.unit_id] = list(result.conflicts)
            units.setdefault(result.unit_id, result)
            continue
        units[result.unit_id] = result
        for sid in result.site_ids:
            sites[sid] = new_sites[sid]
            placements[sid] = ([p for p in by_site.get(sid, ()) if kept(p)] + list(inserted.get(sid, ()))
                               + new_by_site.get(sid, []))
    plan = replace(
        old, dataset_name=dataset.name, dataset_root=str(dataset.root), dataset_fingerprint=dataset.fingerprint,
        settings=tuple(old.settings) + tuple(s for s in settings if s not in old.settings))
    return _assembled(plan, sites, units, placements, partial.items if partial else plan_items(dataset),
                      old.items), infeasible


def keepable(fresh: WeekPlan, old: WeekPlan) -> frozenset[str]:
    """The sites of the units `fresh` could not plan that can keep their schedule in `old`, the
    week's previous plan: those of a failed unit whose every site was planned in `old` in units
    holding only such sites (a site whose sync group changed since, sharing its old unit with a
    site planned anew, cannot: its schedule belonged to a unit that no longer exists)."""
    candidates = {sid for u in fresh.units if not SolveStatus(u.status).planned for sid in u.site_ids}
    was_in = {sid: set(u.site_ids) for u in old.units for sid in u.site_ids}
    while True:
        keep = {sid for sid in candidates if sid in was_in and was_in[sid] <= candidates}
        failed_whole = {sid for u in fresh.units if not SolveStatus(u.status).planned and set(u.site_ids) <= keep
                        for sid in u.site_ids}
        if failed_whole == candidates:
            return frozenset(candidates)
        candidates = failed_whole


def keep_schedules(fresh: WeekPlan, old: WeekPlan, site_ids: frozenset[str]) -> WeekPlan:
    """`fresh`, a whole week planned from scratch, in which the sites `site_ids` (`keepable`)
    keep the schedule they had in `old`, the week's previous plan, with the units they were
    planned in: a change that makes a site infeasible does not empty its calendar."""
    sites = {s.id: s for s in fresh.sites} | {s.id: s for s in old.sites if s.id in site_ids}
    units = {u.unit_id: u for u in fresh.units if not set(u.site_ids) <= site_ids}
    units |= {u.unit_id: u for u in old.units if set(u.site_ids) <= site_ids}
    placements = placements_by_site(fresh.placements) | {
        sid: ps for sid, ps in placements_by_site(old.placements).items() if sid in site_ids}
    return _assembled(fresh, sites, units, placements, fresh.items, old.items)


def _assembled(plan: WeekPlan, sites: dict, units: dict, placements: dict[str, list[Placement]],
               items, old_items) -> WeekPlan:
    """`plan` with these sites, units and placements (sorted as plan.json holds them), and the
    items they air: `items`, and those of `old_items` that a kept placement still airs (an item
    since gone from the dataset)."""
    by_key = {(i.kind, i.id): i for i in items}
    used = {(p.kind, p.item_id) for ps in placements.values() for p in ps}
    for i in old_items:
        if (i.kind, i.id) in used and (i.kind, i.id) not in by_key:
            by_key[(i.kind, i.id)] = i
    return replace(
        plan, sites=tuple(sorted(sites.values(), key=lambda s: s.id)),
        items=tuple(sorted(by_key.values(), key=lambda i: (i.kind, i.id))),
        placements=tuple(sorted((p for ps in placements.values() for p in ps),
                                key=lambda p: (p.site_id, p.start, p.kind, p.item_id))),
        units=tuple(sorted(units.values(), key=lambda u: u.unit_id)))


def changes(old: WeekPlan, new: WeekPlan, cutoff: datetime) -> tuple[Change, ...]:
    """Per site and item, from the cut-off on: airings at the same time are unchanged; the rest
    are paired in time order as moved, and what is left over was added or removed."""
    def after(plan: WeekPlan) -> dict[tuple[str, str, str], list[datetime]]:
        out: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
        for p in plan.placements:
            if p.start >= cutoff:
                out[(p.site_id, p.kind, p.item_id)].append(p.start)
        return out

    before, now = after(old), after(new)
    out: list[Change] = []
    for key in sorted(set(before) | set(now)):
        site, kind, item = key
        a = sorted(set(before.get(key, [])) - set(now.get(key, [])))
        b = sorted(set(now.get(key, [])) - set(before.get(key, [])))
        for x, y in zip(a, b):
            near = x.date() == y.date() and abs((y - x).total_seconds()) <= SHIFT_MINUTES * 60
            out.append(Change(site, "shifted" if near else "moved", kind, item, x, y))
        out += [Change(site, "removed", kind, item, x, None) for x in a[len(b):]]
        out += [Change(site, "added", kind, item, None, y) for y in b[len(a):]]
    return tuple(sorted(out, key=lambda c: (c.site_id, c.before or c.after, c.kind, c.item_id)))


def changes_by_district(plan: WeekPlan, found: tuple[Change, ...]) -> dict[str, dict[str, int]]:
    """district id -> {added, moved, shifted, removed}: the short summary a district centre reads."""
    district = {s.id: s.district_id for s in plan.sites}
    out: dict[str, dict[str, int]] = {}
    for c in found:
        row = out.setdefault(district.get(c.site_id, ""), {"added": 0, "moved": 0, "shifted": 0, "removed": 0})
        row[c.change] += 1
    return dict(sorted(out.items()))
