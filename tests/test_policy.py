"""Policy: loading, merge order (base < kind < area root-first < site) and --set."""
from __future__ import annotations

import dataclasses

import pytest

from conftest import TINY, edit
from scheduler.domain import Policy, Weights, Window
from scheduler.errors import DataError
from scheduler.policy import apply_settings, load_policy, site_policy, with_policy


def site(ds, site_id):
    return next(s for s in ds.sites if s.id == site_id)


def test_load_policy_reads_base_and_overrides():
    policy = load_policy(TINY / "policy.toml")
    assert policy.base["policy"]["max_session_minutes"] == 45
    assert policy.base["weights"]["variety"] == 300.0
    assert set(policy.overrides) == {"kind:urban", "area:chu-se", "site:chu-se-ia-hlop"}
    assert policy.overrides["site:chu-se-ia-hlop"]["weights"] == {"variety": 400.0}


def test_missing_keys_take_the_documented_defaults(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("[policy]\nslot_minutes = 10\n", encoding="utf-8")
    policy = load_policy(path)
    assert policy.base["policy"]["slot_minutes"] == 10
    assert policy.base["policy"]["max_session_minutes"] == 45
    assert policy.base["weights"]["reach"] == 1.0


def test_load_policy_reports_every_bad_key(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(
        '[policy]\nslot_minute = 5\nmax_sessions_per_day = "three"\nbroadcast_days = ["mon", "funday"]\n'
        '[weights]\nreach = -1\nbeauty = 2\n[kind.suburban]\nmax_session_minutes = 20\n[extra]\nx = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        load_policy(path)
    where = {(p.line, p.field) for p in info.value.problems}
    assert {
        ("policy.slot_minute", "slot_minute"), ("policy.max_sessions_per_day", "max_sessions_per_day"),
        ("policy.broadcast_days", "broadcast_days"), ("weights.reach", "reach"), ("weights.beauty", "beauty"),
        ("kind.suburban", "kind"), ("extra", None),
    } <= where
    assert "policy.toml:policy.slot_minute" in str(info.value)


def test_load_policy_bad_toml_names_the_line(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("[policy]\nslot_minutes = = 5\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"policy.toml:2: valid TOML"):
        load_policy(path)


def test_merge_order_base_kind_area_site(tiny):
    urban = site_policy(tiny, site(tiny, "chu-se-tt"))
    rural = site_policy(tiny, site(tiny, "chu-se-ia-blang"))
    hlop = site_policy(tiny, site(tiny, "chu-se-ia-hlop"))
    # kind:urban
    assert urban.max_session_minutes == 15 and rural.max_session_minutes == 45
    assert urban.broadcast_days == (0, 1, 2, 3, 4) and rural.broadcast_days == tuple(range(7))
    # windows replace the whole table, sorted by start
    assert urban.windows == (Window("morning", 360, 420), Window("evening", 1020, 1080))
    assert rural.windows == (Window("morning", 300, 450), Window("noon", 660, 780), Window("evening", 1020, 1200))
    # area:chu-se applies to every site under it
    assert urban.daily_cap_minutes == rural.daily_cap_minutes == 120
    # site wins; weights merge key by key
    assert rural.quiet_hours == ((1260, 300),) and hlop.quiet_hours == ((1230, 330),)
    assert hlop.weights == Weights(1.0, 200.0, 100.0, 400.0, 5.0, 0.1, 1000.0)
    assert rural.weights.variety == 300.0


def test_deeper_area_wins_over_its_parent(tiny):
    policy = dataclasses.replace(
        tiny.policy,
        overrides={
            **tiny.policy.overrides,
            "area:gia-lai": {"daily_cap_minutes": 90, "slot_minutes": 10},
            "area:chu-se-ia-blang": {"daily_cap_minutes": 60},
            "kind:rural": {"daily_cap_minutes": 200, "slot_minutes": 15},
        },
    )
    ds = dataclasses.replace(tiny, policy=policy)
    blang = site_policy(ds, site(ds, "chu-se-ia-blang"))
    hlop = site_policy(ds, site(ds, "chu-se-ia-hlop"))
    assert blang.daily_cap_minutes == 60  # commune > district > province > kind
    assert hlop.daily_cap_minutes == 120  # district (chu-se) > province
    assert hlop.slot_minutes == 10  # province area > kind


def test_site_policy_is_memoised_per_dataset(tiny):
    s = site(tiny, "chu-se-tt")
    assert site_policy(tiny, s) is site_policy(tiny, s)
    other = dataclasses.replace(tiny, policy=apply_settings(tiny.policy, ["policy.slot_minutes=10"]))
    assert site_policy(other, s).slot_minutes == 10 and site_policy(tiny, s).slot_minutes == 5


def test_site_policies_are_resolved_once_by_the_loader_and_by_with_policy(tiny):
    s = site(tiny, "chu-se-tt")
    assert set(tiny.site_policies) == {x.id for x in tiny.sites}
    assert site_policy(tiny, s) is tiny.site_policies[s.id]
    other = with_policy(tiny, apply_settings(tiny.policy, ["policy.slot_minutes=10"]))
    assert site_policy(other, s) is other.site_policies[s.id] and other.site_policies[s.id].slot_minutes == 10
    # a copy made with replace() keeps the old dict: it is noticed and never read stale
    copied = dataclasses.replace(tiny, policy=other.policy)
    assert copied.site_policies == tiny.site_policies and site_policy(copied, s).slot_minutes == 10


def test_apply_settings_parses_values_as_the_key_type(tiny):
    policy = apply_settings(
        tiny.policy,
        [
            "policy.max_session_minutes=30",
            "weights.spread_days=2",
            "policy.quiet_hours=21:00-05:30",
            "policy.windows.morning=05:30-07:00",
            "policy.windows.noon=",
            "policy.broadcast_days=mon;tue;wed",
            "policy.time_budget=2",
        ],
    )
    base = policy.base["policy"]
    assert base["max_session_minutes"] == 30 and isinstance(base["max_session_minutes"], int)
    assert policy.base["weights"]["spread_days"] == 2.0
    assert base["quiet_hours"] == ["21:00-05:30"]
    assert base["windows"] == {"morning": "05:30-07:00", "evening": "17:00-20:00"}
    assert base["broadcast_days"] == ["mon", "tue", "wed"] and base["time_budget"] == 2.0
    assert tiny.policy.base["policy"]["max_session_minutes"] == 45  # the original is untouched
    rural = site_policy(dataclasses.replace(tiny, policy=policy), site(tiny, "chu-se-ia-blang"))
    assert rural.windows == (Window("morning", 330, 420), Window("evening", 1020, 1200))
    assert rural.max_session_minutes == 30 and rural.broadcast_days == (0, 1, 2)


@pytest.mark.parametrize(
    "setting, field, expected",
    [
        ("policy.max_session_minute=30", "policy.max_session_minute", "one of:"),
        ("weights.beauty=1", "weights.beauty", "weights.spread_days"),
        ("policy.max_session_minutes=thirty", "policy.max_session_minutes", "type int"),
        ("policy.max_session_minutes=0", "policy.max_session_minutes", "an integer 1..1440"),
        ("weights.reach=-2", "weights.reach", "a number 0..10000"),
        ("weights.reach=nan", "weights.reach", "a number 0..10000"),
        ("weights.reach=inf", "weights.reach", "a number 0..10000"),
        ("weights.reach=1e308", "weights.reach", "a number 0..10000"),
        ("weights.reach=1e15", "weights.reach", "a number 0..10000"),
        ("policy.time_budget=inf", "policy.time_budget", "at most 3600"),
        ("policy.time_budget=nan", "policy.time_budget", "a number of seconds > 0"),
        ("policy.quiet_hours=21:00-25:00", "policy.quiet_hours", "HH:MM-HH:MM"),
        ("policy.windows.morning=07:00-06:00", "policy.windows.morning", "start before end"),
        ("policy.windows.late=06:30-08:00", "policy.windows.late", "do not overlap"),
        ("policy.broadcast_days=mon;funday", "policy.broadcast_days", "days from mon"),
        ("max_session_minutes", "max_session_minutes", "section.key=value"),
    ],
)
def test_apply_settings_errors_name_the_setting(tiny, setting, field, expected):
    with pytest.raises(DataError) as info:
        apply_settings(tiny.policy, [setting])
    message = str(info.value)
    assert f"--set, field '{field}'" in message and expected in message


def test_apply_settings_reports_all_bad_settings(tiny):
    with pytest.raises(DataError) as info:
        apply_settings(tiny.policy, ["policy.slot_minutes=0", "weights.delay=x", "policy.slot_minutes=10"])
    assert len(info.value.problems) == 2


def test_apply_settings_on_an_empty_policy_uses_defaults():
    policy = apply_settings(Policy(base={}), ["policy.slot_minutes=15"])
    assert policy.base["policy"]["slot_minutes"] == 15 and policy.base["weights"]["reach"] == 1.0


def test_dataset_policy_problems_are_reported_with_the_rest(tiny_copy):
    from scheduler.dataset import load_dataset

    edit(tiny_copy / "policy.toml", "[site.chu-se-ia-hlop]", "[site.ia-hlop]")
    edit(tiny_copy / "policy.toml", "slot_minutes = 5", "slot_minutes = 0")
    with pytest.raises(DataError) as info:
        load_dataset(tiny_copy)
    where = {(p.file, p.line) for p in info.value.problems}
    assert ("policy.toml", "policy.slot_minutes") in where


def test_relay_minimums_merge_one_key_at_a_time(tiny):
    pol = apply_settings(tiny.policy, ["policy.relay_minimums.VOV4=2", "policy.relay_minimums.vtv1-1900=3"])
    pol = dataclasses.replace(pol, overrides={**pol.overrides, "kind:urban": {"relay_minimums": {"VOV4": 0}}})
    ds = with_policy(tiny, pol)
    rural = next(s for s in ds.sites if s.kind == "rural")
    urban = next(s for s in ds.sites if s.kind == "urban")
    assert site_policy(ds, rural).relay_minimums == (("VOV4", 2), ("vtv1-1900", 3))
    assert site_policy(ds, urban).relay_minimums == (("vtv1-1900", 3),)  # 0 lifts one minimum, keeps the rest


@pytest.mark.parametrize("setting, expected", [
    ("policy.relay_minimums.VOV4=eight", "airings a week"),
    ("policy.relay_minimums.VOV4=50", "airings a week"),
])
def test_relay_minimum_values_are_checked(tiny, setting, expected):
    with pytest.raises(DataError, match=expected):
        apply_settings(tiny.policy, [setting])


def test_a_relay_minimum_must_name_a_relay_or_source(tiny_copy, tmp_path):
    from scheduler.dataset import load_dataset
    from scheduler.pipeline import prepare_dataset

    with pytest.raises(DataError, match="relay_minimums.VOVV.*a relay id or source"):
        prepare_dataset(tiny_copy, settings=("policy.relay_minimums.VOVV=2",))
    edit(tiny_copy / "policy.toml", "[kind.urban]", "[policy.relay_minimums]\nvtv1-190 = 2\n\n[kind.urban]")
    with pytest.raises(DataError, match=r"policy.toml.*relay_minimums.vtv1-190"):
        load_dataset(tiny_copy)
