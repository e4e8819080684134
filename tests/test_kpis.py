"""KPIs from the plan alone: hand-counted numbers, then plans made by the real planner.

The hand-counted week (2024-W10, Monday 2024-03-04) spells out each site's `SiteRules`, as a
plan file stores them:

  district d1 "Huyện Chư Păh": s1 "Xã Nghĩa Hưng" (2,000 people, vi+jra), s2 "Xã Ia Ka" (1,000, vi)
  district d2 "Huyện Đắk Pơ":  s3 "Phường Tây Sơn" (4,000, vi, broadcasts Mon-Fri)
  relays: r1 mandatory 30 min (due Mon-Wed at s1, Mon at s2), r2 optional 30 min
  segments: g1 topic 1 vi 5 min (min_plays 3), g2 topic 6 vi 10 min (2), g3 topic 9 jra 5 min (2)
"""
from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from model_helpers import WEEK, dataset, relay, segment, site
from scheduler.domain import Blackout, Placement, PlanItem, PlanSite, SiteRules, UnitResult, WeekPlan, Window
from scheduler.export.kpis import kpis
from scheduler.planfile import read_plan, write_plan
from scheduler.solver.run import plan_week
from scheduler.verify import verify


def rules(relays=(), segments=(), broadcast_days=range(7)) -> SiteRules:
    return SiteRules(windows=(Window("day", 5 * 60, 21 * 60),), quiet_hours=(), broadcast_days=tuple(broadcast_days),
                     session_gap_minutes=10, max_sessions_per_day=3, max_session_minutes=60, daily_cap_minutes=120,
                     segment_min_gap_minutes=0, blackouts=(), relays=tuple(relays), segments=tuple(segments))


def _r1(*days: int) -> tuple[tuple[str, date], ...]:
    return tuple(("r1", date(2024, 3, d)) for d in days)


SITES = (
    PlanSite("s1", "Xã Nghĩa Hưng", "d1", "Huyện Chư Păh", 2000, ("vi", "jra"), "fm", "rural",
             rules(_r1(4, 5, 6), (("g1", 3), ("g2", 2), ("g3", 2)))),
    PlanSite("s2", "Xã Ia Ka", "d1", "Huyện Chư Păh", 1000, ("vi",), "wired", "rural",
             rules(_r1(4), (("g1", 3), ("g2", 2)))),
    # g1 becomes valid on Friday: 1 play is required here, not its min_plays of 3
    PlanSite("s3", "Phường Tây Sơn", "d2", "Huyện Đắk Pơ", 4000, ("vi",), "ip", "urban",
             rules((("r2", date(2024, 3, 8)),), (("g1", 1), ("g2", 2)), broadcast_days=range(5))),
)
ITEMS = (
    PlanItem("r1", "relay", "Thời sự VOV1 buổi sáng", "VOV1", "vi", 1800, mandatory=True),
    PlanItem("r2", "relay", "Thời sự VTV1", "VTV1", "vi", 1800, mandatory=False),
    PlanItem("g1", "segment", "Mục tiêu cải cách hành chính năm 2024", "TTVHTT", "vi", 300, topic=1, min_plays=3),
    PlanItem("g2", "segment", "Bộ phận một cửa: thủ tục đăng ký đất đai", "TTVHTT", "vi", 600, topic=6, min_plays=2),
    PlanItem("g3", "segment", "Chính quyền điện tử (tiếng Jrai)", "TTVHTT", "jra", 300, topic=9, min_plays=2),
)


def _p(site_id, kind, item, day, start, end, listeners=0.0):
    d = datetime(2024, 3, day)
    h0, m0 = map(int, start.split(":"))
    h1, m1 = map(int, end.split(":"))
    return Placement(site_id, kind, item, d.replace(hour=h0, minute=m0), d.replace(hour=h1, minute=m1), listeners)


PLACEMENTS = (
    # s1: Mon two sessions (06:00-06:50 run, 17:00), Tue two (06:00 relay cut short, 11:00), Wed one
    _p("s1", "relay", "r1", 4, "06:00", "06:30"),
    _p("s1", "segment", "g1", 4, "06:30", "06:35", 400),
    _p("s1", "segment", "g2", 4, "06:40", "06:50", 300),
    _p("s1", "segment", "g1", 4, "17:00", "17:05", 500),
    _p("s1", "relay", "r1", 5, "06:00", "06:20"),  # not in full
    _p("s1", "segment", "g3", 5, "11:00", "11:05", 200),
    _p("s1", "relay", "r1", 6, "06:00", "06:30"),
    # s2: Mon two sessions (30 min apart), Thu one (5 min apart)
    _p("s2", "relay", "r1", 4, "06:00", "06:30"),
    _p("s2", "segment", "g1", 4, "07:00", "07:05", 100),
    _p("s2", "segment", "g1", 7, "07:00", "07:05", 150),
    _p("s2", "segment", "g2", 7, "07:10", "07:20", 250),
    # s3: one session on Friday with an optional relay
    _p("s3", "relay", "r2", 8, "18:00", "18:30"),
    _p("s3", "segment", "g2", 8, "18:30", "18:40", 1200),
)
UNITS = (
    UnitResult("u1", ("s1", "s2"), "d1", "OPTIMAL", objective=100.0, bound=100.0),
    UnitResult("u2", ("s3",), "d2", "FEASIBLE", objective=90.0, bound=100.0),
)


@pytest.fixture(scope="module")
def frames():
    return kpis(WeekPlan("2024-W10", "fixture", "/nonexistent", SITES, ITEMS, PLACEMENTS, UNITS, province="Gia Lai"))


def _row(frame, key, value) -> dict:
    rows = frame[frame[key] == value].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def test_site_kpis_match_hand_counts(frames):
    s1 = _row(frames["site"], "site_id", "s1")
    assert s1["par_plays"] == 4
    assert s1["par_minutes"] == 25
    assert s1["listener_plays"] == 1400
    assert s1["listener_plays_per_1000"] == 700
    assert (s1["required_plays"], s1["required_plays_met"]) == (7, 4)  # g1 2/3, g2 1/2, g3 1/2
    assert s1["required_met_pct"] == pytest.approx(57.1)
    assert s1["segments_short"] == 3
    assert (s1["mandatory_relays_due"], s1["mandatory_relays_aired"]) == (3, 2)  # Tuesday's was cut
    assert s1["mandatory_relays_pct"] == pytest.approx(66.7)
    assert s1["topics_covered"] == 3
    assert (s1["par_min_lang_vi"], s1["par_min_lang_jra"]) == (20, 5)
    assert s1["daily_cap_minutes"] == 120
    assert s1["airtime_day_mean_min"] == 15  # (50 + 25 + 30) / 7
    assert s1["airtime_cap_max_pct"] == pytest.approx(41.7)  # Monday: 50 of 120
    assert s1["airtime_cap_mean_pct"] == 12.5
    assert (s1["sessions_day_max"], s1["sessions_day_mean"]) == (2, 0.71)  # 2+2+1 over 7 days
    assert s1["gap_pct"] == 0

    s2 = _row(frames["site"], "site_id", "s2")
    assert (s2["required_plays"], s2["required_plays_met"]) == (5, 3)  # g3 is Jrai: not in s2's rules
    assert s2["par_min_lang_jra"] == 0
    assert (s2["sessions_day_max"], s2["sessions_day_mean"]) == (2, 0.43)  # Mon 2 (30 min gap), Thu 1
    assert s2["mandatory_relays_pct"] == 100

    s3 = _row(frames["site"], "site_id", "s3")
    assert s3["mandatory_relays_due"] == 0 and math.isnan(s3["mandatory_relays_pct"])  # r2 optional
    assert (s3["required_plays"], s3["required_plays_met"]) == (3, 1)  # from its rules, not g1's min_plays
    assert s3["required_met_pct"] == pytest.approx(33.3)
    assert (s3["airtime_day_mean_min"], s3["sessions_day_mean"]) == (8, 0.2)  # over its 5 broadcast days
    assert s3["gap_pct"] == 10


def test_district_and_province_kpis_combine_sites(frames):
    d1 = _row(frames["district"], "district_id", "d1")
    assert (d1["sites"], d1["population"], d1["par_plays"], d1["par_minutes"]) == (2, 3000, 7, 45)
    assert d1["listener_plays"] == 1900
    assert d1["listener_plays_per_1000"] == pytest.approx(633.3)
    assert d1["required_met_pct"] == pytest.approx(58.3)  # 7 of 12
    assert d1["mandatory_relays_pct"] == 75  # 3 of 4
    assert d1["topics_covered"] == 3
    assert d1["sessions_day_mean"] == pytest.approx(0.57)
    assert d1["gap_pct"] == 0

    (prov,) = frames["province"].to_dict("records")
    assert prov["province"] == "Gia Lai"
    assert (prov["population"], prov["par_plays"], prov["par_minutes"]) == (7000, 8, 55)
    assert prov["listener_plays"] == 3100
    assert prov["listener_plays_per_1000"] == pytest.approx(442.9)
    assert (prov["required_plays"], prov["required_plays_met"]) == (15, 8)
    assert prov["mandatory_relays_pct"] == 75
    assert prov["topics_covered"] == 3
    assert (prov["par_min_lang_vi"], prov["par_min_lang_jra"]) == (50, 5)
    assert prov["gap_pct"] == 10


def test_headers_in_both_languages(frames):
    plan = WeekPlan("2024-W10", "fixture", "/nonexistent", SITES, ITEMS, PLACEMENTS, UNITS)
    vi = kpis(plan, lang="vi")["district"].columns
    en = kpis(plan, lang="en")["district"].columns
    assert "Lượt người nghe dự kiến" in vi and "Phút CCHC – tiếng Gia Rai" in vi
    assert "Expected listener-plays" in en and "PAR minutes – Jrai" in en
    assert list(kpis(plan)["district"].columns) == list(frames["district"].columns)  # keys without lang


# --------------------------------------------------------------------------- plans of the real planner


@pytest.fixture(scope="module")
def tiny_plan(tiny):
    return plan_week(tiny, "2024-W10", workers=1)


def test_a_verified_plan_meets_every_requirement_at_every_site(tiny_plan):
    assert verify(tiny_plan) == []
    site = kpis(tiny_plan)["site"].set_index("site_id")
    for s in tiny_plan.sites:
        assert site.loc[s.id, "required_plays"] == sum(n for _, n in s.rules.segments) > 0
        assert site.loc[s.id, "daily_cap_minutes"] == s.rules.daily_cap_minutes
    assert set(site["required_met_pct"]) == {100} and set(site["mandatory_relays_pct"]) == {100}
    # VOV1 06:00 daily at every site, VTV1 19:00 daily at rural ones, on broadcast days: the town
    # airs Mon-Fri, national mourning on Friday silences everything, and the festival at Ia Blang
    # (Wed 06:00-12:00) silences the transmitter it shares with Ia Hlốp
    assert site["mandatory_relays_due"].to_dict() == {"chu-se-ia-blang": 11, "chu-se-ia-hlop": 11, "chu-se-tt": 4}
    assert kpis(tiny_plan)["province"]["province"].tolist() == ["Gia Lai"]


def test_kpis_read_back_from_plan_json_are_the_same(tiny_plan, tmp_path):
    again = read_plan(write_plan(tiny_plan, tmp_path / "plan.json"))
    for level, frame in kpis(tiny_plan).items():
        assert frame.equals(kpis(again)[level]), level


def test_blackout_at_one_sync_group_member_excuses_the_relay_at_both():
    """Before: the report checked the blackout at the site only, so the other member showed a
    mandatory relay due but not aired, while the verifier (whole sync group) accepted the plan."""
    festival = Blackout("le-hoi", "Lễ hội", datetime(2024, 3, 6, 5, 0), datetime(2024, 3, 6, 8, 0), scope=("c1",))
    ds = dataset(sites=[site("s1", sync_group="fm1", area="c1"), site("s2", sync_group="fm1", area="c2")],
                 relays=[relay("r1", "06:00", 15)], segments=[segment("a", min_plays=2, max_plays=3)],
                 blackouts=(festival,))
    plan = plan_week(ds, WEEK, workers=1)
    assert verify(plan) == []
    site_kpis = kpis(plan)["site"].set_index("site_id")
    assert site_kpis["mandatory_relays_due"].to_dict() == {"s1": 6, "s2": 6}  # not on Wednesday
    assert site_kpis["mandatory_relays_pct"].to_dict() == {"s1": 100, "s2": 100}
    assert site_kpis["required_met_pct"].to_dict() == {"s1": 100, "s2": 100}


# --------------------------------------------------------------------------- people reached, topics, relays


def test_people_reached_at_least_once_by_hand():
    """1 - prod(1 - a_i): s1 hears plays of 400, 300, 500 and 200 of its 2,000 people."""
    from scheduler.export.coverage import people_reached

    assert people_reached(2000, [400, 300, 500, 200]) == pytest.approx(2000 * (1 - 0.8 * 0.85 * 0.75 * 0.9))
    assert people_reached(2000, [700]) == pytest.approx(700)  # one play: its expected listeners
    assert people_reached(2000, [1500, 1500, 1500]) < 2000  # never above the population
    assert people_reached(2000, [2500]) == 2000 and people_reached(0, [10]) == 0 and people_reached(10, []) == 0


def test_listener_figures_are_whole_people(frames):
    for level in ("site", "district", "province"):
        for key in ("listener_plays", "people_reached"):
            assert str(frames[level][key].dtype) == "int64", (level, key)
    s1 = _row(frames["site"], "site_id", "s1")
    assert s1["people_reached"] == round(2000 * (1 - 0.8 * 0.85 * 0.75 * 0.9)) == 1082
    assert s1["people_reached_pct"] == pytest.approx(54.1)
    (prov,) = frames["province"].to_dict("records")
    # a person lives at one site: the province adds the sites up
    assert prov["people_reached"] == sum(frames["site"]["people_reached"]) == 1082 + 426 + 1200  # s2: 100, 150, 250


def test_people_reached_per_topic_and_per_segment(frames):
    topics = frames["topic"].set_index("topic_code")
    assert list(topics.index) == [f"II.{n}" for n in range(1, 11)]  # every content area, aired or not
    assert topics.loc["II.1", "topic_name"].startswith("Tầm quan trọng, mục tiêu của CCHC")
    # g1 (II.1): s1 plays of 400 and 500 of 2,000, s2 of 100 and 150 of 1,000
    assert topics.loc["II.1", "people_reached"] == round(2000 * (1 - 0.8 * 0.75) + 1000 * (1 - 0.9 * 0.85)) == 1035
    assert (topics.loc["II.1", "par_plays"], topics.loc["II.1", "sites_aired"]) == (4, 2)
    assert topics.loc["II.6", "people_reached"] == 300 + 250 + 1200  # one play per site: its listeners
    assert topics.loc["II.9", "people_reached"] == 200
    assert topics.loc["II.2", "par_plays"] == 0 and topics.loc["II.2", "people_reached"] == 0
    segments = frames["segment"].set_index("segment_id")
    assert list(segments.index) == ["g1", "g2", "g3"]
    assert segments.loc["g2", "listener_plays"] == 1750 and segments.loc["g2", "topic_code"] == "II.6"


def test_relay_coverage_per_source(frames):
    """r1 (VOV1) is due Mon-Wed at s1 (Tuesday's cut short) and Monday at s2; r2 (VTV1, optional)
    Friday at s3."""
    relays = frames["relay"]
    rows = {(r["district_id"], r["source"]): (r["relays_due"], r["relays_aired"], r["relays_pct"])
            for r in relays.to_dict("records")}
    assert rows == {("d1", "VOV1"): (4, 3, 75.0), ("d2", "VTV1"): (1, 1, 100.0),
                    ("", "VOV1"): (4, 3, 75.0), ("", "VTV1"): (1, 1, 100.0)}
    assert relays[relays["district_id"] == ""]["district"].tolist() == ["Gia Lai", "Gia Lai"]
    assert _row(frames["site"], "site_id", "s1")["relay_pct_VOV1"] == pytest.approx(66.7)
    assert _row(frames["district"], "district_id", "d1")["relay_pct_VOV1"] == 75
    assert math.isnan(_row(frames["district"], "district_id", "d1")["relay_pct_VTV1"])  # not carried there
    (prov,) = frames["province"].to_dict("records")
    assert (prov["relay_pct_VOV1"], prov["relay_pct_VTV1"]) == (75, 100)


def test_technical_figures_are_a_table_of_their_own(frames):
    tech = frames["technical"].set_index("district_id")
    assert tech.loc["d1", "status"] == "1 OPTIMAL" and tech.loc["d2", "gap_pct"] == 10
    assert (tech.loc["d2", "objective"], tech.loc["d2", "bound"]) == (90, 100)
