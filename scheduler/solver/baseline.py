"""What a district staffer does by hand, as a yardstick for the optimiser (used by `make bench`).

Each day: the mandatory relays at their source time (a deferred one as early as it may air),
then every segment, in file order, right after the morning relay on the first days where it
still fits: first until its minimum plays are met, then up to its maximum. Later sessions are
used only when the morning is full. No look at the audience. A unit where this fails to meet
a rule gets no plan (status INFEASIBLE).
"""
from __future__ import annotations

from ..domain import Dataset, SolveStatus, WeekPlan
from .problem import UnitProblem, build_problem, build_units, lay_out
from .run import UnitSolution, assemble_plan


def _pick_sessions(problem: UnitProblem) -> list[int]:
    """Per day and window: the option carrying the window's mandatory relays with the least
    delay and the earliest start; windows without mandatory relays open only when needed."""
    picked = []
    for day in problem.broadcast_days:
        by_window: dict[str, list[int]] = {}
        for o, opt in enumerate(problem.options):
            if opt.day == day and not opt.blocked_by:
                by_window.setdefault(opt.window, []).append(o)
        needed = {(rid, d) for (rid, d), r in problem.relays.items() if d == day and r.mandatory}
        for window, idx in sorted(by_window.items(), key=lambda kv: problem.options[kv[1][0]].start):
            opts = [o for o in idx if {(r.relay_id, day) for r in problem.options[o].relays} & needed
                    and all(problem.relays[(r.relay_id, day)].mandatory for r in problem.options[o].relays)]
            if opts:
                best = min(opts, key=lambda o: (-len(problem.options[o].relays),
                                                sum(r.delay for r in problem.options[o].relays),
                                                problem.options[o].relays[0].start - problem.options[o].start))
                picked.append(best)
                needed -= {(r.relay_id, day) for r in problem.options[best].relays}
        # spare sessions for PAR alone, earliest first, in windows still free, within the limit
        sessions = sum(problem.options[o].sessions for o in picked if problem.options[o].day == day)
        taken = {problem.options[o].window for o in picked if problem.options[o].day == day}
        for window, idx in sorted(by_window.items(), key=lambda kv: problem.options[kv[1][0]].start):
            spare = [o for o in idx if not problem.options[o].relays]
            if window not in taken and spare and sessions + 1 <= problem.policy.max_sessions_per_day:
                picked.append(min(spare, key=lambda o: problem.options[o].start))
                sessions += 1
    return picked


def baseline_unit(dataset: Dataset, unit, week: str) -> UnitSolution:
    problem = build_problem(dataset, unit, week)
    pol = problem.policy
    picked = _pick_sessions(problem)
    fills: dict[tuple[int, int], list[str]] = {}
    used = {o: {bi: 0 for bi in range(len(problem.options[o].bins))} for o in picked}
    minutes = {d: sum(r.minutes for o in picked if problem.options[o].day == d for r in problem.options[o].relays)
               for d in range(7)}
    plays: dict[str, list[tuple[int, int]]] = {}  # segment -> (earliest, latest) possible week minute
    targets = [(seg_id, seg, problem.min_plays(seg)) for seg_id, seg in problem.segments.items()]
    targets += [(seg_id, seg, seg.max_plays) for seg_id, seg in problem.segments.items()]
    for seg_id, seg, target in targets:  # required plays first, then as many as allowed
        dur, gap = seg.duration_min, problem.min_gap(seg)
        for day in problem.segment_days[seg_id]:
            if len(plays.get(seg_id, [])) >= target:
                break
            if any(early // 1440 == day for early, _late in plays.get(seg_id, [])):
                continue  # once a day
            if minutes[day] + dur > pol.daily_cap_minutes:
                continue
            # right after the morning relay: bins in time order, left-aligned after a relay first
            for o in sorted((o for o in picked if problem.options[o].day == day), key=lambda o: problem.options[o].start):
                opt = problem.options[o]
                order = sorted(range(len(opt.bins)), key=lambda bi: (opt.bins[bi].align != "left", opt.bins[bi].start))
                slot = next((bi for bi in order if opt.bins[bi].minutes - used[o][bi] >= dur
                             and all(day * 1440 + opt.bins[bi].start - late >= gap
                                     for _early, late in plays.get(seg_id, []))), None)
                if slot is not None:
                    used[o][slot] += dur
                    minutes[day] += dur
                    fills.setdefault((o, slot), []).append(seg_id)
                    plays.setdefault(seg_id, []).append((day * 1440 + opt.bins[slot].start,
                                                         day * 1440 + opt.bins[slot].end - dur))
                    break
    met = all(len(plays.get(s, [])) >= problem.min_plays(seg) for s, seg in problem.segments.items())
    used_options = {o for (o, _bi) in fills} | {o for o in picked if problem.options[o].relays}
    airings = lay_out(problem, [o for o in picked if o in used_options], fills) if met else []
    return UnitSolution(unit, SolveStatus.FEASIBLE if met else SolveStatus.INFEASIBLE, 0.0, 0.0, tuple(airings), (),
                        {(a.kind, a.item_id, a.week_minute): {} for a in airings})


def baseline_plan(dataset: Dataset, week: str) -> WeekPlan:
    return assemble_plan(dataset, week, [baseline_unit(dataset, u, week) for u in build_units(dataset)])
