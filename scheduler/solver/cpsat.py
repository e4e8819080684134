"""CP-SAT's model and solver, straight over OR-Tools' C++ helper (`cp_model_helper`).

`ortools.sat.python.cp_model` is a thin Python layer over that helper, but importing it imports
pandas (for its Series methods, which loa never calls): 0.4-0.5 s of every command that solves,
a tenth of a one-district bulletin. What loa uses of `cp_model.CpModel` and `cp_model.CpSolver`
is here, written as they write it, so the models and solves are the same (tests/test_cpsat.py
builds the same proto both ways). The helper's methods are not a stable API across OR-Tools
releases, hence the version pinned in pyproject.toml.
"""
from __future__ import annotations

import numpy  # noqa: F401  (see below)
from ortools.sat.python import cp_model_helper as cmh

# The helper imports numpy when the first model is made. Imported here, it is imported once,
# before a process pool forks its workers, instead of once in each of them (measured: a
# one-district bulletin's solve took 0.45 s longer when each forked worker imported it).

BoundedLinearExpression = cmh.BoundedLinearExpression
Constraint = cmh.Constraint
IntVar = cmh.IntVar
LinearExpr = cmh.LinearExpr

OPTIMAL = cmh.CpSolverStatus.OPTIMAL
FEASIBLE = cmh.CpSolverStatus.FEASIBLE
INFEASIBLE = cmh.CpSolverStatus.INFEASIBLE
UNKNOWN = cmh.CpSolverStatus.UNKNOWN
MODEL_INVALID = cmh.CpSolverStatus.MODEL_INVALID
LP_SEARCH = cmh.SatParameters.SearchBranching.LP_SEARCH


class CpModel(cmh.CpBaseModel):
    """The constraints loa adds, as `cp_model.CpModel` adds them."""

    def __init__(self) -> None:
        cmh.CpBaseModel.__init__(self, None)

    @property
    def proto(self) -> cmh.CpModelProto:
        return self.model_proto

    def negated(self, index: int) -> int:
        return -index - 1

    def add(self, ct) -> Constraint:
        if isinstance(ct, BoundedLinearExpression):
            return self._add_bounded_linear_expression(ct)
        if self.is_boolean_value(ct):  # a comparison Python settled already: always or never true
            return self.add_bool_or([True] if ct else [])
        raise TypeError(f"not supported: CpModel.add({type(ct).__name__!r})")

    def add_bool_or(self, *literals) -> Constraint:
        return self._add_bool_argument_constraint(cmh.BoolArgumentConstraint.bool_or, *literals)

    def add_at_most_one(self, *literals) -> Constraint:
        return self._add_bool_argument_constraint(cmh.BoolArgumentConstraint.at_most_one, *literals)

    def add_max_equality(self, target, *expressions) -> Constraint:
        return self._add_linear_argument_constraint(cmh.LinearArgumentConstraint.max, target, *expressions)

    def add_assumptions(self, literals) -> None:
        for lit in literals:
            self.model_proto.assumptions.append(self.get_or_make_boolean_index(lit))

    def clear_assumptions(self) -> None:
        self.model_proto.assumptions.clear()

    def clear_objective(self) -> None:
        self.model_proto.clear_objective()
        self.model_proto.clear_floating_point_objective()

    def clone(self) -> CpModel:
        copy = CpModel()
        copy.proto.copy_from(self.proto)
        copy.rebuild_constant_map()
        return copy


class CpSolver:
    """One solve at a time, with `parameters` set before it; the last response is kept."""

    def __init__(self) -> None:
        self.parameters = cmh.SatParameters()
        self._response: cmh.CpSolverResponse | None = None

    def solve(self, model: CpModel) -> cmh.CpSolverStatus:
        wrapper = cmh.SolveWrapper()
        wrapper.set_parameters(self.parameters)
        self._response = wrapper.solve(model.proto)
        return self._response.status

    @property
    def response_proto(self) -> cmh.CpSolverResponse:
        if self._response is None:
            raise RuntimeError("solve() has not been called")
        return self._response

    def value(self, expression) -> int:
        return cmh.ResponseHelper.value(self.response_proto, expression)

    def boolean_value(self, literal) -> bool:
        return cmh.ResponseHelper.boolean_value(self.response_proto, literal)

    def sufficient_assumptions_for_infeasibility(self) -> list[int]:
        return list(cmh.ResponseHelper.sufficient_assumptions_for_infeasibility(self.response_proto))

    def status_name(self, status=None) -> str:
        return (self.response_proto.status if status is None else status).name

    @property
    def objective_value(self) -> float:
        return self.response_proto.objective_value

    @property
    def best_objective_bound(self) -> float:
        return self.response_proto.best_objective_bound

    @property
    def deterministic_time(self) -> float:
        return self.response_proto.deterministic_time
