"""What a district staffer does by hand, as a yardstick for the optimiser (used by `make bench`).

Relays at their source time; then each segment, in file order, goes into a fixed slot right
after the morning relay block on the first days where it still fits, until its minimum plays
are met (later windows are tried only when the morning is full). No look at the audience.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..domain import Dataset, Placement, WeekPlan, week_monday
from .problem import Candidate, build_problem, build_units
from .run import UnitSolution, assemble_plan
from .verify import check_no_overlap, check_session_limits


def _fits(problem, placed: list[Candidate], cand: Candidate, monday: datetime) -> bool:
    day = [c for c in placed if c.day == cand.day] + [cand]
    ps = sorted((Placement("x", c.kind, c.item_id, monday + timedelta(minutes=c.start),
                           monday + timedelta(minutes=c.end)) for c in day), key=lambda p: p.start)
    return not check_no_overlap(ps) and not check_session_limits(problem.policy, ps)


def baseline_unit(dataset: Dataset, unit, week: str) -> UnitSolution:
    problem = build_problem(dataset, unit, week)
    monday = datetime.combine(week_monday(week), datetime.min.time())
    placed: list[Candidate] = []
    for (relay_id, day), relay in sorted(problem.relays.items(), key=lambda kv: (kv[0][1], kv[1].start_min)):
        options = [c for c in problem.candidates if c.kind == "relay" and c.item_id == relay_id and c.day == day
                   and not c.blocked_by]
        for c in options:  # source time first, then the first later start that fits
            if _fits(problem, placed, c, monday):
                placed.append(c)
                break
    for seg_id, seg in problem.segments.items():
        need = problem.min_plays(seg)
        gap = seg.min_gap_min or problem.policy.segment_min_gap_minutes
        plays: list[Candidate] = []
        for day in problem.segment_days[seg_id]:
            if len(plays) >= need:
                break
            relays = [c for c in placed if c.kind == "relay" and c.day == day]
            anchor = min((c.end for c in relays), default=0)
            options = sorted((c for c in problem.candidates if c.kind == "segment" and c.item_id == seg_id
                              and c.day == day), key=lambda c: (c.start < anchor, c.start))
            for c in options:  # first free start after the morning relay, else the next that fits
                if all(c.start - p.start >= gap for p in plays) and _fits(problem, placed, c, monday):
                    placed.append(c)
                    plays.append(c)
                    break
    status = "FEASIBLE" if all(
        sum(1 for c in placed if c.item_id == s) >= problem.min_plays(seg) for s, seg in problem.segments.items()
    ) else "INFEASIBLE"
    return UnitSolution(unit, status, 0.0, 0.0, tuple(placed), (), {(c.kind, c.item_id, c.start): {}
                                                                      for c in placed})


def baseline_plan(dataset: Dataset, week: str) -> WeekPlan:
    return assemble_plan(dataset, week, [baseline_unit(dataset, u, week) for u in build_units(dataset)])
