"""The never-rules of ARCHITECTURE.md, checked on what Python actually imports.

Each check runs in a fresh interpreter, so modules loaded by other tests cannot hide a violation.
"""
from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded(*modules: str) -> set[str]:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print('\\n'.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return set(out.stdout.split())


def _hits(loaded: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("modules, forbidden", [
    # export reads plan.json only: never the solver, the dataset loader or the policy merger
    (("scheduler.export", "scheduler.export.report", "scheduler.export.compare", "scheduler.export.kpis",
      "scheduler.export.ical", "scheduler.export.manifest", "scheduler.export.audio", "scheduler.planfile",
      "scheduler.verify", "scheduler.fsutil", "scheduler.export.sessions", "scheduler.export.coverage",
      "scheduler.export.printable", "scheduler.export.bundle"),
     ("ortools", "scheduler.solver", "scheduler.dataset", "scheduler.policy", "scheduler.pipeline", "scheduler.io")),
    # the domain and the rules are pure: no solver, no readers, no data frames
    (("scheduler.domain", "scheduler.rules"),
     ("ortools", "pandas", "icalendar", "pydub", "scheduler.io", "scheduler.dataset", "scheduler.planfile",
      "scheduler.fsutil")),
    # loading never solves
    (("scheduler.dataset",), ("ortools", "scheduler.solver", "scheduler.export")),
    # the problem builder knows nothing of CP-SAT
    (("scheduler.solver.problem",), ("ortools",)),
    # the verifier judges a plan by the rules stored in it: domain and rules only, no solver, no I/O
    (("scheduler.verify",),
     ("ortools", "pandas", "icalendar", "pydantic", "scheduler.solver", "scheduler.io", "scheduler.dataset",
      "scheduler.policy", "scheduler.planfile", "scheduler.fsutil", "scheduler.export")),
    # the transaction layer under every writer knows nothing of what it writes
    (("scheduler.fsutil",),
     ("ortools", "pandas", "icalendar", "scheduler.solver", "scheduler.dataset", "scheduler.export",
      "scheduler.planfile", "scheduler.policy")),
])
def test_never_rules(modules, forbidden):
    assert _hits(_loaded(*modules), forbidden) == []
