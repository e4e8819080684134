"""A re-plan's first schedule (`solver/repair.py`): the previous schedule, kept where it still
fits and completed greedily, handed to CP-SAT whole. It must be a feasible schedule of the new
problem (every hard rule of the model holds with it) and keep every previous play that still fits.

The week is the tiny dataset planned by `loa plan`; the unit problems are those a re-plan solves,
caught on their way to the solver.
"""
from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.dataset import load_dataset
from scheduler.ops.additem import add_segment
from scheduler.ops.replan import replan_week
from scheduler.solver import cpsat, run
from scheduler.solver.model import build_model, solver_for
from scheduler.solver.repair import hint_previous
from week_helpers import MONDAY, copy_tiny, plan_week

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("espeak-ng", "ffmpeg")),
                                reason="needs espeak-ng and ffmpeg")


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sent")
    return plan_week(copy_tiny(tmp), tmp / "out")


def replanned_problems(sent, speech, cutoff: int, scope: list[str], plays: tuple[int, int], lead: bool = False):
    """The unit problems of a re-plan from `cutoff` (minutes into the week) after a new item, each
    with its model and whether the previous schedule could be handed over."""
    seen = []
    real = run.solve_problem

    def catch(problem):
        seen.append(problem)
        return real(problem)

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(run, "solve_problem", catch)
        data = Path(tmp) / "tiny"
        shutil.copytree(sent.data, data)
        new = add_segment(data, speech, title="Lịch tiêm phòng", topic=9, scope=scope, language="vi", priority=4,
                          plays=plays, valid=(None, None))
        replan_week(sent.plan(), load_dataset(data), MONDAY + timedelta(minutes=cutoff), workers=1,
                    lead=new.id if lead else "")
    out = []
    for problem in seen:
        um = build_model(problem)
        out.append((problem, um, hint_previous(um)))
    return out


def feasible(um) -> bool:
    """CP-SAT, every variable fixed to its hinted value, finds the hint a solution."""
    solver = solver_for(10.0)
    solver.parameters.fix_variables_to_their_hinted_value = True
    return solver.solve(um.model) in (cpsat.OPTIMAL, cpsat.FEASIBLE)


def hinted_fills(um) -> set[tuple[str, int, int]]:
    hint = dict(zip(um.model.proto.solution_hint.vars, um.model.proto.solution_hint.values))
    return {key for key, var in um.fill.items() if hint[var.index]}


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(cutoff=st.integers(0, 7 * 24 * 60 - 1), lo=st.integers(1, 4),
       scope=st.sampled_from([["chu-se"], ["chu-se-tt"], ["chu-se-ia-blang"]]))
def test_the_repaired_schedule_is_a_complete_feasible_hint(sent, speech, cutoff, lo, scope):
    for problem, um, ok in replanned_problems(sent, speech, cutoff, scope, (lo, lo + 1)):
        if ok:  # else CP-SAT starts cold: nothing left to keep, or no room found for a required play
            assert len(um.model.proto.solution_hint.vars) == len(um.model.proto.variables), problem.unit.id
            assert feasible(um), problem.unit.id


def test_every_previous_play_that_still_fits_is_kept_in_its_session(sent, speech):
    (problem, um, ok), = replanned_problems(sent, speech, 2 * 24 * 60 + 12 * 60, ["chu-se-tt"], (2, 3))
    assert ok and feasible(um)
    fills = hinted_fills(um)
    previous = {(a.item_id, a.day) for a in problem.pinned.previous if a.kind == "segment"}
    assert previous
    assert {(s, problem.options[o].day) for s, o, b in fills if problem.fill_stays(s, o, b)} == previous
    assert sum(1 for s, _o, _b in fills if s not in {item for item, _day in previous}) >= 2  # the new item's plays


def test_a_priority_bulletin_is_left_to_the_model(sent, speech):
    found = replanned_problems(sent, speech, 2 * 24 * 60 + 11 * 60, ["chu-se-tt"], (1, 1), lead=True)
    assert found and all(problem.pinned.lead for problem, _um, _ok in found)
    assert not any(ok for _p, _um, ok in found)
