"""Per-unit solution cache and executors: neither may change a plan by a single byte, and an
OPTIMAL status always means a proven optimum."""
from __future__ import annotations

from dataclasses import replace

import pytest

from scheduler.domain import SolveStatus
from scheduler.planfile import write_plan
from scheduler.solver import run
from scheduler.solver.cache import SolutionCache, problem_digest
from scheduler.solver.problem import build_problem, build_units
from scheduler.solver.run import plan_week

from model_helpers import WEEK, dataset, policy, relay, segment, site


def sample(plays: int = 3):
    return dataset(sites=[site("a"), site("b", population=3000, area="c2", languages=("vi", "jra")),
                          site("c", sync_group="g"), site("d", sync_group="g", area="c2")],
                   relays=[relay("vov", "06:00", 15), relay("gl", "18:00", 15, mode="deferred", max_delay=60)],
                   segments=[segment(f"s{i}", minutes=2 + i % 4, min_plays=1, max_plays=plays, topic=1 + i % 10,
                                     priority=1 + i % 5) for i in range(8)],
                   pol=policy(max_session_minutes=30, weights={"spread_days": 200.0, "variety": 300.0,
                                                               "spread_dayparts": 100.0, "delay": 5.0}))


def test_a_cached_rerun_solves_nothing_and_writes_the_same_bytes(tmp_path):
    cache = SolutionCache(tmp_path / "cache")
    first, second = {}, {}
    a = write_plan(plan_week(sample(), WEEK, workers=2, cache=cache, stats=first), tmp_path / "a" / "plan.json")
    b = write_plan(plan_week(sample(), WEEK, workers=2, cache=cache, stats=second), tmp_path / "b" / "plan.json")
    assert first["cache_hits"] == 0 and first["distinct"] == 3
    assert second["cache_hits"] == second["distinct"] == 3
    assert "solve" not in second["worker_seconds"]  # nothing was solved again
    assert a.read_bytes() == b.read_bytes()
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 3


def test_a_changed_unit_misses_the_cache_and_the_others_hit(tmp_path):
    cache = SolutionCache(tmp_path / "cache")
    plan_week(sample(), WEEK, workers=1, cache=cache)
    ds = sample()
    ds = replace(ds, sites=tuple(replace(s, population=5000) if s.id == "a" else s for s in ds.sites))
    stats = {}
    fresh = plan_week(ds, WEEK, workers=1, cache=cache, stats=stats)
    assert stats["cache_hits"] == 2  # b and the sync group are unchanged
    assert write_plan(fresh, tmp_path / "x.json").read_bytes() == \
        write_plan(plan_week(ds, WEEK, workers=1), tmp_path / "y.json").read_bytes()


def test_problem_digest_is_content_derived():
    ds = sample()
    unit = build_units(ds)[0]
    d1 = problem_digest(build_problem(ds, unit, WEEK), 0.005)
    assert d1 == problem_digest(build_problem(sample(), unit, WEEK), 0.005)  # a fresh copy: same digest
    assert d1 != problem_digest(build_problem(ds, unit, "2024-W11"), 0.005)
    assert d1 != problem_digest(build_problem(sample(plays=2), unit, WEEK), 0.005)
    assert d1 != problem_digest(build_problem(ds, unit, WEEK), 0.01)  # solver settings count too


@pytest.mark.parametrize("damage", ["cut short", "empty", "wrong digest"])
def test_a_corrupt_cache_entry_is_a_miss(tmp_path, damage):
    """Cache entries are not fsynced (`fsutil.write_cache_atomic`): after a crash one may be empty
    or cut short, and it must read as a miss, index entries included."""
    cache = SolutionCache(tmp_path / "cache")
    plan_week(sample(), WEEK, workers=1, cache=cache)
    for path in (p for p in (tmp_path / "cache").rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        path.write_text({"cut short": text[:len(text) // 2], "empty": "",
                         "wrong digest": '{"digest": "nope"}'}[damage], encoding="utf-8")
    stats = {}
    plan_week(sample(), WEEK, workers=1, cache=cache, stats=stats)
    assert stats["cache_hits"] == 0


class _Stopped:
    """A solver that stopped at the gap limit (CP-SAT still says OPTIMAL)."""

    def __init__(self, objective, bound):
        self.objective_value, self.best_objective_bound = objective, bound

    def status_name(self, _status):
        return "OPTIMAL"


def test_optimal_only_when_the_bound_is_met():
    assert run._status(_Stopped(1000.0, 1004.0), None) is SolveStatus.FEASIBLE
    assert run._status(_Stopped(1000.0, 1000.0), None) is SolveStatus.OPTIMAL
    plan = plan_week(sample(), WEEK, workers=1)
    for u in plan.units:
        assert (u.status is SolveStatus.OPTIMAL) == (u.bound - u.objective < 1), u
        assert u.gap <= run.GAP_LIMIT + 1e-9


def test_an_unknown_executor_is_a_clear_error():
    from scheduler.errors import DataError
    with pytest.raises(DataError, match="local or dask"):
        plan_week(sample(), WEEK, executor="spark")


def test_dask_local_cluster_gives_the_same_plan_json_as_the_process_pool(tmp_path):
    from distributed import LocalCluster

    local = write_plan(plan_week(sample(), WEEK, workers=2), tmp_path / "local" / "plan.json").read_bytes()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        stats = {}
        plan = plan_week(sample(), WEEK, executor="dask", scheduler=cluster.scheduler_address, stats=stats)
    assert stats["distinct"] == 3
    assert write_plan(plan, tmp_path / "dask" / "plan.json").read_bytes() == local


def test_cli_prints_proven_gap_and_cache_use_and_refuses_dask_without_scheduler(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from scheduler import cli, pipeline

    monkeypatch.setattr(pipeline, "load_dataset", lambda path: sample())
    monkeypatch.setenv("LOA_CACHE_DIR", str(tmp_path / "cache"))
    args = ["plan", "--data", "x", "--week", WEEK, "--out", str(tmp_path), "--no-export", "--workers", "1"]
    first = CliRunner().invoke(cli.main, args)
    assert first.exit_code == 0, first.output
    assert "of optimum (proven)" in first.output or "optimal (proven)" in first.output
    assert "from the solution cache: 0" in first.output
    again = CliRunner().invoke(cli.main, args)
    assert "distinct solves: 3, from the solution cache: 3" in again.output
    dask = CliRunner().invoke(cli.main, args + ["--executor", "dask"])
    assert dask.exit_code == 2 and "tcp://HOST:8786" in dask.output
    assert "Traceback" not in dask.output


def test_an_unchanged_dataset_finds_its_units_without_building_them(tiny_copy, tmp_path):
    from conftest import edit
    from scheduler.dataset import load_dataset

    cache = SolutionCache(tmp_path / "cache")
    first = plan_week(load_dataset(tiny_copy), WEEK, workers=1, cache=cache)
    stats = {}
    again = plan_week(load_dataset(tiny_copy), WEEK, workers=1, cache=cache, stats=stats)
    assert stats["cache_hits"] == stats["distinct"] and stats["worker_seconds"] == {}  # nothing built
    assert write_plan(again, tmp_path / "a.json").read_bytes() == write_plan(first, tmp_path / "b.json").read_bytes()
    # a changed file changes the shortcut: every unit's problem is built again, and the units
    # the change does not touch are still found by their problem digest
    edit(tiny_copy / "segments.csv", "cchc-jrai,Mục tiêu cải cách hành chính (tiếng Gia Rai),1,jra,audio/cchc-jrai.ogg,1,2",
         "cchc-jrai,Mục tiêu cải cách hành chính (tiếng Gia Rai),1,jra,audio/cchc-jrai.ogg,1,1")
    stats = {}
    changed = plan_week(load_dataset(tiny_copy), WEEK, workers=1, cache=cache, stats=stats)
    assert "problem" in stats["worker_seconds"]
    assert 0 < stats["cache_hits"] < stats["distinct"]  # the Jrai-speaking sync group is solved again
    assert write_plan(changed, tmp_path / "c.json").read_bytes() == \
        write_plan(plan_week(load_dataset(tiny_copy), WEEK, workers=1), tmp_path / "d.json").read_bytes()


def test_the_client_keeps_solutions_workers_stored_elsewhere(tmp_path):
    # a Dask worker on another machine writes its cache on its own disk: the client keeps a copy
    ds = sample()
    [sol] = [s for s in run._local(ds, WEEK, build_units(ds)[:1], 1, None, {})]  # solved with no cache
    cache = SolutionCache(tmp_path / "client")
    assert not cache.path(sol.digest).exists()
    list(run._remembered(cache, {sol.unit.id: "k" * 64}, iter([sol])))
    assert cache.get(sol.digest) is not None and cache.digest_for("k" * 64) == sol.digest
    again = run._known(cache, "k" * 64, sol.unit)
    assert again.airings == sol.airings and again.objective == sol.objective and again.cached
