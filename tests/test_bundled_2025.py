"""The bundled datasets as a user meets them: Gia Lai 2025 (province -> 135 communes, reporting
groups by former district) validates strictly and plans one group; populations of both years
come from sources per row and are never an even split."""
from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from conftest import BUNDLED, REPO
from scheduler.dataset import load_dataset
from scheduler.export.kpis import kpis
from scheduler.pipeline import select_sites
from scheduler.solver.run import plan_week
from scheduler.verify import verify

Y2025 = REPO / "data" / "gia_lai_2025"


@pytest.fixture(scope="module")
def ds2025():
    return load_dataset(Y2025)


@pytest.fixture(scope="module")
def ds2024():
    return load_dataset(BUNDLED)


def test_both_bundled_datasets_have_no_warning(ds2024, ds2025):
    assert list(ds2024.warnings) == [] and list(ds2025.warnings) == []


def test_2025_is_two_tiers_with_reporting_groups(ds2025):
    root = next(a for a in ds2025.areas if a.parent_id is None)
    assert (root.id, root.kind) == ("gia-lai", "Tỉnh")
    communes = [a for a in ds2025.areas if a.parent_id == root.id]
    assert len(communes) == 135 and {a.kind for a in communes} == {"Xã", "Phường"}
    assert len(ds2025.sites) == 135 and len(ds2025.groups) == 28
    assert {g.kind for g in ds2025.groups} == {"Khu vực"}
    # every station reports to its group, none to the province alone
    assert {ds2025.reporting_unit(s).kind for s in ds2025.sites} == {"Khu vực"}


def test_2025_populations_are_sums_over_the_communes_of_2024(ds2024, ds2025):
    old_gia_lai = sum(s.population for s in ds2024.sites)
    codes = {a.id: int(a.code) for a in ds2025.areas if a.code.isdigit()}
    new_gia_lai = sum(s.population for s in ds2025.sites if codes[s.area_id] >= 23000)  # Bình Định's are 21xxx-22xxx
    assert new_gia_lai == old_gia_lai  # Tân Sơn and Đăk HLơ (dissolved Nov 2024) included
    chu_se = next(s for s in ds2025.sites if s.id == "chu-se")  # TT Chư Sê + Dun + Ia Blang + Ia Pal + Ia Glai
    parts = {"chu-se-chu-se", "chu-se-dun", "chu-se-ia-blang", "chu-se-ia-pal", "chu-se-ia-glai"}
    assert chu_se.population == sum(s.population for s in ds2024.sites if s.id in parts)
    assert chu_se.population_source.startswith("sum over the units it was formed from (NQ 1664/NQ-UBTVQH15)")


@pytest.mark.parametrize("folder", [BUNDLED, Y2025])
def test_no_district_or_group_is_split_evenly_and_every_row_says_why(folder):
    with (folder / "sites.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ds = load_dataset(folder)
    by_unit = defaultdict(list)
    for s in ds.sites:
        by_unit[ds.reporting_unit(s).id].append(s.population)
    for unit, pops in by_unit.items():
        assert len(pops) == 1 or len(set(pops)) > 1, unit
    for r in rows:
        src = r["population_source"]
        assert any(word in src for word in ("census", "estimate")), r["site_id"]


def test_one_group_of_2025_plans_exports_and_reports_by_its_kind(ds2025):
    site_ids = select_sites(ds2025, ("kv-krong-pa",))
    assert len(site_ids) == 4
    plan = plan_week(ds2025, "2025-W48", site_ids=site_ids, workers=1)
    assert verify(plan) == []
    assert all(u.status.planned for u in plan.units)
    assert {s.district_id for s in plan.sites} == {"kv-krong-pa"}
    frames = kpis(plan, lang="vi")
    assert "Khu vực" in frames["district"].columns and "Tỉnh" in frames["province"].columns
    # the Jrai item of the former Krông Pa area airs five times a week at each of its communes
    jrai = [p for p in plan.placements if p.item_id == "krong-pa-cchc-jrai"]
    assert len(jrai) == 5 * len([s for s in plan.sites if "jra" in s.languages])
    makers = {i.id: (i.producer_kind, i.producer_name) for i in plan.items if i.kind == "segment"}
    assert makers["krong-pa-cchc-jrai"] == ("Xã", "Phú Túc") and makers["gia-lai-cchc-tuan"] == ("Tỉnh", "Gia Lai")
