"""Each broadcast rule of `scheduler.rules`, alone: once where it holds, once where it is broken."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from scheduler.domain import Blackout, Window
from scheduler.policy import site_policy
from scheduler.rules import (blackouts_over, combine_policies, dark, in_quiet_hours, relay_applies,
                             relays_due, required_plays, segment_applies, segment_min_gap, session_minutes,
                             site_rules, split_sessions, sync_members, valid_days, window_at)

from model_helpers import WEEK, dataset, policy, relay, segment, site

MON = date(2024, 3, 4)
WEEK_DAYS = tuple(date(2024, 3, d) for d in range(4, 11))


def at(day: int, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2024, 3, day, h, m)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


def test_relay_applies_by_language_kind_scope_and_day():
    ds = dataset(sites=[site("s1", languages=("vi",), kind="rural", area="c1")])
    s1 = ds.sites[0]
    assert relay_applies(ds, s1, relay("r", "06:00", 10, days=[0]), 0)
    assert not relay_applies(ds, s1, relay("r", "06:00", 10, days=[0]), 1)  # not its day
    assert not relay_applies(ds, s1, relay("r", "06:00", 10, language="jra"), 0)  # not its language
    assert not relay_applies(ds, s1, relay("r", "06:00", 10, site_kinds=("urban",)), 0)  # not its kind
    assert not relay_applies(ds, s1, replace(relay("r", "06:00", 10), scope=("c2",)), 0)  # not its area
    assert relay_applies(ds, s1, replace(relay("r", "06:00", 10), scope=("d1",)))  # any day, parent area


def test_segment_applies_by_language_and_scope():
    ds = dataset(sites=[site("s1", languages=("vi", "jra"), area="c1")])
    s1 = ds.sites[0]
    assert segment_applies(ds, s1, segment("a", language="jra"))
    assert not segment_applies(ds, s1, segment("a", language="bdq"))
    assert segment_applies(ds, s1, segment("a", scope=("c1",)))
    assert not segment_applies(ds, s1, segment("a", scope=("c2",)))


def test_sync_members_are_the_whole_group():
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2"), site("c")])
    a, b, c = ds.sites
    assert sync_members(ds, a) == (a, b)
    assert sync_members(ds, c) == (c,)


def test_a_blackout_of_one_member_silences_the_group():
    black = Blackout("tang", "Lễ tang", at(4, "05:00"), at(4, "08:00"), scope=("c2",))
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2")], blackouts=(black,))
    a, b = ds.sites
    assert blackouts_over(ds, [a], at(4, "06:00"), at(4, "06:10")) == ()
    assert blackouts_over(ds, sync_members(ds, a), at(4, "06:00"), at(4, "06:10")) == (black,)
    assert blackouts_over(ds, sync_members(ds, a), at(4, "08:00"), at(4, "09:00")) == ()  # end is exclusive


def test_dark_finds_the_overlapping_blackout():
    black = Blackout("x", "Sự kiện", at(4, "18:00"), at(4, "19:00"))
    assert dark([black], at(4, "18:30"), at(4, "18:40")) is black
    assert dark([black], at(4, "17:00"), at(4, "18:00")) is None


def test_quiet_hours_wrap_midnight():
    quiet = [(21 * 60, 5 * 60)]
    assert in_quiet_hours(quiet, 22 * 60) and in_quiet_hours(quiet, 4 * 60 + 59)
    assert not in_quiet_hours(quiet, 5 * 60) and not in_quiet_hours(quiet, 20 * 60 + 59)
    assert in_quiet_hours([(12 * 60, 13 * 60)], 12 * 60 + 30) and not in_quiet_hours([(12 * 60, 13 * 60)], 13 * 60)


def test_windows_and_quiet_hours_decide_when_one_may_air():
    windows = (Window("sáng", 5 * 60, 7 * 60), Window("tối", 18 * 60, 22 * 60))
    quiet = [(21 * 60, 5 * 60)]
    assert window_at(windows, 6 * 60).name == "sáng"
    assert window_at(windows, 7 * 60) is None  # end is exclusive
    assert window_at(windows, 20 * 60) and not in_quiet_hours(quiet, 20 * 60)
    assert window_at(windows, 21 * 60 + 30) and in_quiet_hours(quiet, 21 * 60 + 30)  # in a window but quiet
    assert window_at(windows, 12 * 60) is None  # outside every window


def test_valid_days_and_required_plays():
    days = valid_days(date(2024, 3, 6), date(2024, 3, 20), WEEK_DAYS, broadcast_days=range(6))
    assert days == tuple(date(2024, 3, d) for d in (6, 7, 8, 9))  # from Wed, no Sunday broadcast
    assert valid_days(None, None, WEEK_DAYS, range(7)) == WEEK_DAYS
    assert required_plays(3, len(days)) == 3
    assert required_plays(3, 2) == 2  # once a day: only as many plays as valid days
    assert required_plays(3, 0) == 0


def test_segment_min_gap_own_value_else_policy():
    assert segment_min_gap(None, 720) == 720
    assert segment_min_gap(2880, 720) == 2880
    assert segment_min_gap(0, 720) == 0  # an explicit 0 is kept, not replaced by the policy


def test_sessions_split_at_silences_of_the_gap_and_at_midnight():
    spans = [Span(at(4, "06:00"), at(4, "06:30")), Span(at(4, "06:39"), at(4, "06:45")),
             Span(at(4, "06:55"), at(4, "07:00")), Span(at(5, "06:00"), at(5, "06:05"))]
    runs = split_sessions(reversed(spans), 10)
    assert [[s.start.strftime("%d %H:%M") for s in r] for r in runs] == [
        ["04 06:00", "04 06:39"], ["04 06:55"], ["05 06:00"]]
    assert session_minutes(runs[0]) == 45
    assert len(split_sessions(spans, 11)) == 2  # a 10-min silence is inside the gap


def test_session_run_end_is_the_latest_end_not_the_last_item():
    spans = [Span(at(4, "06:00"), at(4, "07:00")), Span(at(4, "06:10"), at(4, "06:20")),
             Span(at(4, "07:05"), at(4, "07:10"))]
    assert len(split_sessions(spans, 10)) == 1


def test_sync_group_keeps_the_strictest_limits():
    ds = dataset(sites=[site("a", kind="rural"), site("b", kind="urban")],
                 pol=replace(policy(), overrides={"kind:urban": {"daily_cap_minutes": 60, "max_sessions_per_day": 2,
                                                                 "broadcast_days": ["mon", "tue"]}}))
    a, b = (site_policy(ds, s) for s in ds.sites)
    both = combine_policies([a, b])
    assert (both.daily_cap_minutes, both.max_sessions_per_day, both.broadcast_days) == (60, 2, (0, 1))
    assert combine_policies([a]) is a


def test_relays_due_skip_blackouts_of_the_group_and_non_broadcast_days():
    black = Blackout("tang", "Lễ tang", at(5, "05:00"), at(5, "08:00"), scope=("c2",))
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2")],
                 relays=[relay("vov", "06:00", 15), relay("vtv", "19:00", 30, mandatory=False)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]), blackouts=(black,))
    a = ds.sites[0]
    due = [(r.id, d.day) for r, d in relays_due(ds, a, site_policy(ds, a), WEEK)]
    assert due == [("vov", 4), ("vtv", 4), ("vtv", 5), ("vov", 6), ("vtv", 6)]  # Tue 06:00 blacked out


def test_site_rules_record_what_the_week_was_planned_under():
    black = Blackout("tang", "Lễ tang", at(5, "05:00"), at(5, "08:00"), scope=("c2",))
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2")],
                 relays=[relay("vov", "06:00", 15)],
                 segments=[segment("x", min_plays=3, max_plays=3), segment("j", language="jra"),
                           segment("late", min_plays=2, max_plays=2, valid_from=date(2024, 3, 6))],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]), blackouts=(black,))
    a = ds.sites[0]
    rules = site_rules(ds, a, site_policy(ds, a), WEEK)
    assert rules.relays == (("vov", date(2024, 3, 4)), ("vov", date(2024, 3, 6)))
    assert rules.segments == (("late", 1), ("x", 3))  # "j" is not in its language; "late" only valid Wed
    assert [b.id for b in rules.blackouts] == ["tang"] and rules.blackouts[0].scope == ()
    assert rules.broadcast_days == (0, 1, 2)
