"""solver/cpsat.py against OR-Tools' own cp_model: the same calls give the same model and the same
solve, and planning no longer imports pandas."""
import subprocess
import sys

from ortools.sat.python import cp_model
from ortools.util.python.sorted_interval_list import Domain

from scheduler.solver import cpsat


def _build(module):
    """A small model using every call loa makes; returns (model, variables)."""
    m = module.CpModel()
    xs = [module.IntVar(m.proto).with_name(f"x{i}").with_domain(Domain(0, 1)) for i in range(6)]
    y = module.IntVar(m.proto).with_name("y").with_domain(Domain(0, 1))
    m.add(module.LinearExpr.weighted_sum(xs, [3, 5, 7, 2, 4, 6]) <= 12)
    m.add(module.LinearExpr.sum(xs[:3]) >= 1).only_enforce_if(y)
    m.add(xs[0] + xs[1] <= 1)
    m.add(True)
    m.add_at_most_one(x for x in xs[3:])
    m.add_bool_or([xs[0], xs[5]])
    m.add_max_equality(y, [xs[2], xs[4]])
    objective = m.proto.objective
    objective.vars.extend(range(6))
    objective.coeffs.extend([-4, -6, -8, -3, -5, -7])
    objective.scaling_factor = -1.0
    return m, xs


def test_same_model_as_cp_model():
    ours, _ = _build(cpsat)
    theirs, _ = _build(cp_model)
    assert str(ours.proto) == str(theirs.proto)
    assert str(ours.clone().proto) == str(theirs.clone().proto)
    ours.clear_objective()
    theirs.clear_objective()
    assert str(ours.proto) == str(theirs.proto)


def test_same_solve_as_cp_model():
    results = []
    for module in (cpsat, cp_model):
        m, xs = _build(module)
        solver = module.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 7
        status = solver.solve(m)
        results.append((solver.status_name(status), solver.objective_value, solver.best_objective_bound,
                        [solver.boolean_value(x) for x in xs], solver.value(xs[0] + 2 * xs[1]),
                        list(solver.response_proto.solution)))
    assert results[0] == results[1]
    assert results[0][0] == "OPTIMAL"


def test_infeasible_core_as_cp_model():
    cores = []
    for module in (cpsat, cp_model):
        m = module.CpModel()
        a, b, c = (module.IntVar(m.proto).with_name(n).with_domain(Domain(0, 1)) for n in "abc")
        m.add(a + b >= 2).only_enforce_if(c)
        m.add(a == 0)
        m.add_assumptions([c])
        solver = module.CpSolver()
        solver.parameters.num_workers = 1
        assert solver.solve(m) == module.INFEASIBLE
        cores.append(solver.sufficient_assumptions_for_infeasibility())
        m.clear_assumptions()
        assert solver.solve(m) == module.OPTIMAL
    assert cores[0] == cores[1] == [2]


def test_planning_does_not_import_pandas():
    """pandas costs 0.4-0.5 s of a bulletin's start-up; only the reports need it."""
    code = ("import sys, scheduler.pipeline, scheduler.ops.bulletin, scheduler.solver.run, scheduler.export; "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
