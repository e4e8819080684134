"""The synthetic national benchmark dataset is a valid dataset, labelled synthetic, and its two
modes differ the way the bench relies on: all units distinct, or duplicated as in a province."""
from __future__ import annotations

import sys
from pathlib import Path

from scheduler.dataset import load_dataset
from scheduler.solver.problem import build_units, unit_signature

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from make_national import generate  # noqa: E402


def test_national_datasets_load_and_their_modes_differ(tmp_path):
    distinct = load_dataset(generate(120, tmp_path / "d", "distinct", n_provinces=4))
    realistic = load_dataset(generate(120, tmp_path / "r", "realistic", n_provinces=4))
    for ds in (distinct, realistic):
        assert len(ds.sites) == 120
        assert len({ds.district_of(s).id for s in ds.sites}) == 4  # the provinces
        assert "SYNTHETIC" in (Path(ds.root) / "dataset.toml").read_text(encoding="utf-8")
        assert len({s.population for s in ds.sites}) > 100
        assert len({s.profile_id for s in ds.sites}) >= 8
    units = build_units(distinct)
    assert len({unit_signature(distinct, u) for u in units}) == len(units)
    units = build_units(realistic)
    assert len({unit_signature(realistic, u) for u in units}) < 0.9 * len(units)
    assert any(s.sync_group for s in realistic.sites)
    # the same seed gives the same files
    again = generate(120, tmp_path / "again", "realistic", n_provinces=4)
    assert (again / "sites.csv").read_bytes() == (tmp_path / "r" / "sites.csv").read_bytes()
