"""The steps `loa plan` chains: week and site selection errors are clear; sync groups stay whole."""
from __future__ import annotations

import pytest

from scheduler.errors import DataError
from scheduler.pipeline import check_week, plan_and_write, select_sites

from model_helpers import WEEK, dataset, policy, segment, site


def test_week_is_normalised_and_typos_are_clear():
    assert check_week("2024-w9") == "2024-W09"
    with pytest.raises(DataError, match="an ISO week like 2024-W10"):
        check_week("2024-10")


def test_selecting_a_site_brings_its_sync_group_and_unknown_ids_are_named():
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2"), site("c", area="c2")])
    assert select_sites(ds, sites=("a",)) == {"a", "b"}
    assert select_sites(ds, districts=("c2",)) == {"b", "c", "a"}
    assert select_sites(ds) is None
    with pytest.raises(DataError) as err:
        select_sites(ds, districts=("nowhere",), sites=("zz",))
    assert "--district" in str(err.value) and "--site" in str(err.value)


def test_plan_and_write_verifies_then_writes(tmp_path):
    ds = dataset(segments=[segment("a")], pol=policy(broadcast_days=["mon"]))
    outcome = plan_and_write(ds, WEEK, tmp_path, workers=1)
    assert outcome.plan_path == tmp_path / "audio_manifests" / WEEK / "plan.json"
    assert outcome.plan_path.exists() and outcome.infeasible == {}


def test_a_district_plan_goes_into_the_week_plan_and_the_other_sites_keep_theirs(tmp_path):
    from week_helpers import by_site, copy_tiny, loa, plan_week, with_second_district

    week = plan_week(with_second_district(copy_tiny(tmp_path)), tmp_path / "out")
    before = week.plan()
    chu_se = [s for s in before.sites if s.district_id == "chu-se"]
    calendars = {s.id: week.calendar(s).read_bytes() for s in chu_se}
    result = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1,
                 "--district", "krong-pa", "--set", "weights.spread_days=2")
    assert result.exit_code == 0, result.output
    assert f"{len(chu_se)} other site(s) kept their schedule" in result.output
    after = week.plan()
    assert [s.id for s in after.sites] == [s.id for s in before.sites]
    assert all(by_site(after)[s.id] == by_site(before)[s.id] for s in chu_se)
    assert {s.id: week.calendar(s).read_bytes() for s in chu_se} == calendars
    assert by_site(after)["krong-pa-ia-rsai"] and ("set", "weights.spread_days=2") in after.settings


def test_a_plan_where_no_site_can_be_planned_leaves_the_outputs_as_they_were(tmp_path):
    from conftest import edit
    from week_helpers import copy_tiny, loa, plan_week

    week = plan_week(copy_tiny(tmp_path), tmp_path / "out")
    outputs = week.outputs()
    edit(week.data / "policy.toml", "daily_cap_minutes = 150", "daily_cap_minutes = 1")
    edit(week.data / "policy.toml", "daily_cap_minutes = 120", "daily_cap_minutes = 1")  # Chư Sê's own cap
    result = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1,
                 "--district", "chu-se")
    assert result.exit_code == 3, result.output
    assert "no schedule satisfies every requirement" in result.output
    assert week.outputs() == outputs


def test_a_plan_of_another_dataset_under_out_is_refused_not_overwritten(tmp_path):
    from conftest import edit
    from week_helpers import copy_tiny, loa, plan_week

    week = plan_week(copy_tiny(tmp_path), tmp_path / "out")
    outputs = week.outputs()
    other = copy_tiny(tmp_path, "other")
    edit(other / "dataset.toml", 'name = "tiny"', 'name = "other"')
    result = loa("plan", "--data", other, "--week", WEEK, "--out", week.out, "--workers", 1, "--district", "chu-se")
    assert result.exit_code == 2, result.output
    assert "plan.json" in result.output and "'other'" in result.output and "Traceback" not in result.output
    assert week.outputs() == outputs


def test_a_broken_week_plan_under_out_is_named_with_the_way_out_and_left_as_it_is(tmp_path):
    from week_helpers import copy_tiny, loa, plan_week

    week = plan_week(copy_tiny(tmp_path), tmp_path / "out")
    week.plan_path.write_text('{"format": 2, "week": "2024-W10"', encoding="utf-8")
    outputs = week.outputs()
    result = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1, "--site", "chu-se-tt")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "a UTF-8 JSON plan" in result.output and "plan the whole week (no --district/--site)" in result.output
    assert week.outputs() == outputs


def test_a_site_that_cannot_be_planned_keeps_its_schedule_in_the_week_plan(tmp_path):
    from week_helpers import by_site, copy_tiny, loa, plan_week, with_second_district

    week = plan_week(with_second_district(copy_tiny(tmp_path)), tmp_path / "out")
    before = by_site(week.plan())["krong-pa-ia-rsai"]
    with open(week.data / "policy.toml", "a", encoding="utf-8") as f:  # its 45-min relay no longer fits
        f.write("\n[site.krong-pa-ia-rsai]\nmax_session_minutes = 20\n")
    result = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1,
                 "--district", "chu-se", "--district", "krong-pa", "--set", "weights.spread_days=2")
    assert result.exit_code == 3, result.output
    assert "Xã Ia RSai (krong-pa):\n  - kept the previous schedule: " in result.output
    after = week.plan()
    assert by_site(after)["krong-pa-ia-rsai"] == before and ("set", "weights.spread_days=2") in after.settings


def test_a_whole_week_plan_keeps_the_schedule_of_a_site_it_cannot_plan(tmp_path):
    from week_helpers import by_site, copy_tiny, loa, plan_week, with_second_district

    week = plan_week(with_second_district(copy_tiny(tmp_path)), tmp_path / "out")
    before = week.plan()
    sites = len(before.sites)
    rsai = next(s for s in before.sites if s.id == "krong-pa-ia-rsai")
    calendar = week.calendar(rsai).read_bytes()
    with open(week.data / "policy.toml", "a", encoding="utf-8") as f:  # its 45-min relay no longer fits
        f.write("\n[site.krong-pa-ia-rsai]\nmax_session_minutes = 20\n")
    result = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1,
                 "--set", "weights.spread_days=2")
    assert result.exit_code == 3, result.output
    assert f": {sites - 1} of {sites} sites planned (1 kept the previous schedule)," in result.output
    assert "\nkrong-pa           1  1 kept previous " in result.output
    assert "Xã Ia RSai (krong-pa):\n  - kept the previous schedule: " in result.output
    after = week.plan()
    assert [s.id for s in after.sites] == [s.id for s in before.sites]
    assert by_site(after)["krong-pa-ia-rsai"] == by_site(before)["krong-pa-ia-rsai"]
    assert week.calendar(rsai).read_bytes() == calendar
    assert after.settings == (("set", "weights.spread_days=2"),)  # the new plan's settings, not the old
    again = loa("export", "--plan", week.plan_path, "--out", tmp_path / "again")  # the plan keeps every rule
    assert again.exit_code == 0, again.output


def test_sites_that_join_a_sync_group_that_cannot_be_planned_keep_their_schedules(tmp_path):
    from conftest import edit
    from week_helpers import by_site, copy_tiny, plan_week

    data = copy_tiny(tmp_path)
    edit(data / "sites.csv", "sat,chu-se-fm1,yes", "sat,,yes")  # Ia Hlốp airs on its own
    week = plan_week(data, tmp_path / "out")
    before = week.plan()
    edit(week.data / "sites.csv", "sat,,yes", "sat,chu-se-fm1,yes")  # it joins Ia Blang's group
    with open(week.data / "policy.toml", "a", encoding="utf-8") as f:  # whose relay no longer fits
        f.write("\n[site.chu-se-ia-blang]\nmax_session_minutes = 20\n")
    result = _plan_kept(week, tmp_path, ": 1 of 3 sites planned (2 kept the previous schedule),")
    assert "chu-se             3  optimal (proven), 2 kept previous " in result.output
    after = week.plan()
    assert all(by_site(after)[s] == by_site(before)[s] for s in ("chu-se-ia-blang", "chu-se-ia-hlop"))
    # with the units they were planned in
    assert [u for u in after.units if u.unit_id != "chu-se-tt"] == [u for u in before.units if u.unit_id != "chu-se-tt"]


def test_a_site_whose_old_unit_is_planned_anew_cannot_keep_its_part_of_it(tmp_path):
    from conftest import edit
    from week_helpers import by_site, copy_tiny, plan_week

    week = plan_week(copy_tiny(tmp_path), tmp_path / "out")
    edit(week.data / "sites.csv", "sat,chu-se-fm1,yes", "sat,,yes")  # Ia Hlốp leaves the group
    with open(week.data / "policy.toml", "a", encoding="utf-8") as f:  # and Ia Blang's relay no longer fits
        f.write("\n[site.chu-se-ia-blang]\nmax_session_minutes = 20\n")
    result = _plan_kept(week, tmp_path, ": 2 of 3 sites planned,")
    assert "kept the previous schedule" not in result.output
    assert by_site(week.plan())["chu-se-ia-blang"] == []


def _plan_kept(week, tmp_path, summary: str):
    """`loa plan` of the whole week, which cannot plan some site: exit 3 with `summary`, and a
    plan that keeps every rule (`loa export` reads it back)."""
    from week_helpers import loa

    result = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1)
    assert result.exit_code == 3 and summary in result.output, result.output
    again = loa("export", "--plan", week.plan_path, "--out", tmp_path / "again")
    assert again.exit_code == 0, again.output
    return result


def test_a_whole_week_plan_replaces_a_broken_plan_and_counts_only_the_sites_it_could_plan(tmp_path):
    from week_helpers import by_site, copy_tiny, loa, plan_week, with_second_district

    week = plan_week(with_second_district(copy_tiny(tmp_path)), tmp_path / "out")
    sites = len(week.plan().sites)
    week.plan_path.write_text('{"format": 2, "week": "2024-W10"', encoding="utf-8")
    with open(week.data / "policy.toml", "a", encoding="utf-8") as f:
        f.write("\n[site.krong-pa-ia-rsai]\nmax_session_minutes = 20\n")
    result = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1)
    assert result.exit_code == 3, result.output
    assert f": {sites - 1} of {sites} sites planned," in result.output
    assert 'Xã Ia RSai (krong-pa):\n  - relay "Thời sự 19:00"' in result.output
    assert "kept the previous schedule" not in result.output
    after = week.plan()
    assert len(after.sites) == sites and by_site(after)["krong-pa-ia-rsai"] == []
