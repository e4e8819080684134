"""The two-tier tree since July 2025 and reporting groups.

The tiny dataset rewritten the 2025 way: the district Chư Sê is gone, its three communes sit right
under the province, and two of them form the reporting group `chu-se` (kind "Cụm", groups.csv)
that the policy, the scopes, the calendars and the reports use; the township belongs to no group,
so it reports straight to the province. The real planner plans it; exports and reports are
checked on what a user sees.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import TINY, edit
from scheduler.dataset import load_dataset
from scheduler.errors import DataError
from scheduler.export import plan_outputs
from scheduler.export.report import districts_of, write_report
from scheduler.planfile import read_plan, write_plan
from scheduler.policy import site_policy
from scheduler.rules import segment_applies
from scheduler.solver.run import plan_week

WEEK = "2024-W10"
AREAS_2025 = """area_id,name,kind,parent_id,code,lat,lon,source,group
gia-lai,Gia Lai,Tỉnh,,52,13.9833,108.0000,test,
chu-se-tt,Chư Sê,Xã,gia-lai,23941,,,test,
chu-se-ia-blang,Ia Blang,Xã,gia-lai,23872,,,test,chu-se
chu-se-ia-hlop,Ia Hlốp,Xã,gia-lai,23878,,,test,chu-se
"""
GROUPS = """group_id,name,kind,source
chu-se,Chư Sê,Cụm,test: communes of the former district Chư Sê that share a transmitter
"""


def make_2025(root: Path, groups: bool = True) -> Path:
    shutil.copytree(TINY, root)
    (root / "areas.csv").write_text(AREAS_2025 if groups else AREAS_2025.replace(",chu-se\n", ",\n"),
                                    encoding="utf-8")
    (root / "groups.csv").write_text(GROUPS, encoding="utf-8")
    edit(root / "policy.toml", "[area.chu-se]", "[group.chu-se]")
    text = (root / "segments.csv").read_text(encoding="utf-8").splitlines()
    producer = {"mot-cua": "gia-lai", "duong-day-nong": "chu-se", "cchc-jrai": "chu-se-ia-blang"}
    rows = [text[0] + ",producer"] + [f"{row},{producer.get(row.split(',')[0], '')}" for row in text[1:]]
    (root / "segments.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ds_2025(tmp_path_factory):
    return load_dataset(make_2025(tmp_path_factory.mktemp("d") / "tiny2025"))


@pytest.fixture(scope="module")
def plan_2025(tmp_path_factory, ds_2025):
    path = write_plan(plan_week(ds_2025, WEEK, workers=1), tmp_path_factory.mktemp("plan") / "plan.json")
    return read_plan(path)


def site(ds, site_id):
    return next(s for s in ds.sites if s.id == site_id)


# --------------------------------------------------------------------------- the dataset


def test_a_group_is_the_reporting_unit_and_the_province_is_one_without_a_group(ds_2025):
    blang, tt = site(ds_2025, "chu-se-ia-blang"), site(ds_2025, "chu-se-tt")
    assert (ds_2025.reporting_unit(blang).id, ds_2025.reporting_unit(blang).kind) == ("chu-se", "Cụm")
    assert (ds_2025.reporting_unit(tt).id, ds_2025.reporting_unit(tt).kind) == ("gia-lai", "Tỉnh")
    # a group is not an administrative level: the commune's parent is still the province
    assert ds_2025.area("chu-se-ia-blang").parent_id == "gia-lai"
    assert [a.id for a in ds_2025.ancestors("chu-se-ia-blang")] == ["chu-se-ia-blang", "gia-lai"]


def test_the_2024_tree_still_reports_by_district():
    tiny = load_dataset(TINY)
    assert {tiny.reporting_unit(s).id for s in tiny.sites} == {"chu-se"}
    assert tiny.reporting_unit(tiny.sites[0]).kind == "Huyện"


def test_a_group_id_in_a_scope_means_its_members(ds_2025):
    seg = next(g for g in ds_2025.segments if g.id == "duong-day-nong")  # scope: chu-se (the group now)
    assert [s.id for s in ds_2025.sites if segment_applies(ds_2025, s, seg)] == ["chu-se-ia-blang", "chu-se-ia-hlop"]


def test_group_overrides_sit_between_the_province_and_the_commune(tmp_path):
    root = make_2025(tmp_path / "d")
    with (root / "policy.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[area.gia-lai]\ndaily_cap_minutes = 90\n\n[area.chu-se-ia-hlop]\ndaily_cap_minutes = 100\n")
    ds = load_dataset(root)
    caps = {s.id: site_policy(ds, s).daily_cap_minutes for s in ds.sites}
    # province 90 < group 120 < commune 100
    assert caps == {"chu-se-tt": 90, "chu-se-ia-blang": 120, "chu-se-ia-hlop": 100}


def test_sites_share_a_resolved_policy_only_under_the_same_groups(tmp_path):
    """Resolved policies are shared per override chain: a rural site outside the group (no
    overrides of its own) must not get the group's rules from a grouped site resolved first."""
    root = make_2025(tmp_path / "d")
    with (root / "policy.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[area.gia-lai]\ndaily_cap_minutes = 90\n")
    with (root / "sites.csv").open("a", encoding="utf-8") as fh:
        fh.write("chu-se-tt-2,Thôn 2,chu-se-tt,rural,fm,900,test value,vi,upland-coffee,,,yes\n")
    ds = load_dataset(root)
    caps = {s.id: site_policy(ds, s).daily_cap_minutes for s in ds.sites}
    assert caps["chu-se-ia-blang"] == 120 and caps["chu-se-tt-2"] == 90
    assert ds.site_policies["chu-se-ia-blang"] is not ds.site_policies["chu-se-tt-2"]


def test_a_control_character_in_groups_csv_is_refused_at_load(tmp_path):
    root = make_2025(tmp_path / "d")
    (root / "groups.csv").write_text(GROUPS.replace("chu-se,Chư Sê,Cụm", 'chu-se,"Chư\nSê",Cụm'),
                                     encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_dataset(root)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("groups.csv", 2, "name")
    assert "without control characters" in problem.expected


def test_a_semicolon_separated_groups_csv_is_read_with_a_warning(tmp_path):
    root = make_2025(tmp_path / "d")
    (root / "groups.csv").write_text('group_id;name;kind;source\nchu-se;Chư Sê;Cụm;"test; the former district"\n',
                                     encoding="utf-8")
    ds = load_dataset(root)
    assert [(g.id, g.name, g.kind) for g in ds.groups] == [("chu-se", "Chư Sê", "Cụm")]
    (warning,) = [w for w in ds.warnings if w.file == "groups.csv"]
    assert warning.line == 1 and "separated by ';'" in warning.expected


def test_unknown_and_clashing_group_ids_are_errors(tmp_path):
    root = make_2025(tmp_path / "d")
    edit(root / "areas.csv", "test,chu-se\n", "test,chu-xe\n")
    edit(root / "policy.toml", "[group.chu-se]", "[group.cum-2]")
    (root / "groups.csv").write_text(GROUPS + "gia-lai,Gia Lai,Cụm,test\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_dataset(root)
    message = str(info.value)
    assert "areas.csv:4, field 'group', value 'chu-xe': a group_id from groups.csv" in message
    assert "areas.csv:2, field 'area_id', value 'gia-lai': an id that is not also a group_id" in message
    assert "policy.toml:group.cum-2, field 'group', value 'cum-2': a group_id from groups.csv" in message


def test_a_producer_must_be_an_area_or_a_group(tmp_path):
    root = make_2025(tmp_path / "d")
    edit(root / "segments.csv", ",gia-lai\n", ",so-vhtt\n")
    with pytest.raises(DataError, match=r"segments.csv:2, field 'producer', value 'so-vhtt'"):
        load_dataset(root)


def test_135_parentless_communes_give_one_message_with_the_likely_root(tmp_path):
    root = make_2025(tmp_path / "d")
    edit(root / "areas.csv", "Xã,gia-lai,", "Xã,,", count=3)
    with pytest.raises(DataError) as info:
        load_dataset(root)
    (problem,) = [p for p in info.value.problems if p.field == "parent_id"]
    assert str(problem).startswith("areas.csv:3, field 'parent_id'")
    assert "3 row(s) have an empty parent_id (lines 3, 4, 5)" in str(problem)
    assert "the root is likely 'gia-lai' (Gia Lai, line 2): write gia-lai in their parent_id" in str(problem)


# --------------------------------------------------------------------------- the plan and what comes out


def test_the_plan_records_units_kinds_and_producers(plan_2025):
    units = {s.id: (s.district_id, s.district_kind) for s in plan_2025.sites}
    assert units == {"chu-se-tt": ("gia-lai", "Tỉnh"), "chu-se-ia-blang": ("chu-se", "Cụm"),
                     "chu-se-ia-hlop": ("chu-se", "Cụm")}
    assert (plan_2025.province_id, plan_2025.province_kind) == ("gia-lai", "Tỉnh")
    made = {i.id: (i.producer_id, i.producer_kind, i.producer_name) for i in plan_2025.items if i.kind == "segment"}
    assert made["mot-cua"] == ("gia-lai", "Tỉnh", "Gia Lai")
    assert made["duong-day-nong"] == ("chu-se", "Cụm", "Chư Sê")
    assert made["dich-vu-cong"] == ("", "", "")


def test_calendars_per_site_and_per_group_never_a_one_site_copy(plan_2025, tmp_path):
    files, summary = plan_outputs(plan_2025, tmp_path)
    calendars = sorted(str(p.relative_to(tmp_path / "calendars" / WEEK)) for p in files if p.suffix == ".ics")
    assert calendars == ["chu-se.ics", "chu-se/chu-se-ia-blang.ics", "chu-se/chu-se-ia-hlop.ics",
                         "gia-lai/chu-se-tt.ics"]
    group_ics = files[tmp_path / "calendars" / WEEK / "chu-se.ics"].decode("utf-8")
    import icalendar

    assert str(icalendar.Calendar.from_ical(group_ics)["X-WR-CALNAME"]) == \
        "Cụm Chư Sê — Lịch phát sóng Tuần 10 (04–10/3/2024)"


def test_report_pages_per_group_and_for_the_province_labelled_by_kind(plan_2025, tmp_path):
    write_report(plan_2025, tmp_path, lang="vi")
    assert districts_of(plan_2025) == [("chu-se", "Chư Sê"), ("gia-lai", "Gia Lai")]
    pages = sorted(p.name for p in tmp_path.glob("district_*.html"))
    assert pages == ["district_chu-se.html", "district_gia-lai.html"]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Cụm Chư Sê" in index and "Tỉnh Gia Lai" in index and "huyện" not in index.lower()
    header = (tmp_path / "kpi_district.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("Mã cụm / tỉnh,Cụm / Tỉnh,Loại đơn vị,")
    group_page = (tmp_path / "district_chu-se.html").read_text(encoding="utf-8")
    assert "Toàn cụm" in group_page and "huyện" not in group_page.lower()
    # who made what aired: the province's item and the group's item both air in the group
    assert "Bài CCHC theo đơn vị sản xuất" in group_page
    assert "<th>Tỉnh Gia Lai</th>" in group_page and "<th>Cụm Chư Sê</th>" in group_page


def test_without_groups_everything_reports_to_the_province(tmp_path):
    ds = load_dataset(make_2025(tmp_path / "d", groups=False))
    plan = plan_week(ds, WEEK, site_ids={"chu-se-tt", "chu-se-ia-blang", "chu-se-ia-hlop"}, workers=1)
    files, _ = plan_outputs(plan, tmp_path / "out")
    calendars = sorted(p.name for p in files if p.suffix == ".ics")
    assert calendars == ["chu-se-ia-blang.ics", "chu-se-ia-hlop.ics", "chu-se-tt.ics"]  # no gia-lai.ics
    write_report(plan, tmp_path / "report", lang="en")
    assert sorted(p.name for p in (tmp_path / "report").glob("district_*.html")) == ["district_gia-lai.html"]
    assert [s.district_kind for s in plan.sites] == ["Tỉnh"] * 3
