"""`loa bulletin`: a bulletin sent mid-week by its Circular 39 level, on a week under way.

- emergency (khẩn cấp): at every site in scope at the first free minute at or after --from,
  repeated --repeat times at least --every minutes apart, outside windows, session limits and
  the daily cap; never over what is on air, a live mandatory relay or a blackout; quiet hours
  only if the policy allows;
- priority (ưu tiên): first in the next session of each site in scope, ahead of its items;
  what it displaces is listed.

The week is the tiny dataset (Chư Sê: the town's station alone, Ia Blang and Ia Hlốp on one FM
transmitter) planned by `loa plan` into a temp folder; bulletins are real speech (espeak-ng, sox).
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from conftest import PASSWORD, TINY, USER, snapshot
from export_helpers import one_event_calendars
from scheduler.rules import in_quiet_hours, window_at
from scheduler.verify import verify
from week_helpers import (MONDAY, WEEK, at, by_site, changes, copy_tiny, hhmm, loa, long_speech, minutes, plan_week,
                          sessions, with_policy)

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("espeak-ng", "sox", "ffmpeg")),
                                reason="needs espeak-ng, sox and ffmpeg")

TOWN = "chu-se-tt"  # urban: windows 06-07 and 17-18, sessions of 15 min at most, Mon-Fri
FM1 = ("chu-se-ia-blang", "chu-se-ia-hlop")  # rural, one FM transmitter; VTV1 19:00-19:45 live, mandatory
FM1_SCOPE = ("--scope", FM1[0], "--scope", FM1[1])
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def week(tmp_path):
    return plan_week(copy_tiny(tmp_path), tmp_path / "out")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A recorded announcement of about 4 minutes (it takes 5 minutes of airtime)."""
    return long_speech(tmp_path_factory.mktemp("long") / "thong-bao-dai.ogg", 250)


def emergency_id(plan) -> str:
    (item,) = [i for i in plan.items if i.level == "emergency"]
    return item.id


def airings(plan, site_id: str, item_id: str) -> list:
    return [p for p in by_site(plan)[site_id] if p.item_id == item_id]


def first_free(plan, site_ids, cutoff: datetime, after: datetime, length: int) -> datetime:
    """The rule as a user reads it: the first minute at or after `after` when an airing of `length`
    minutes, within its day, meets at none of `site_ids` something that started before the
    cut-off, a live mandatory relay, a blackout or (unless the policy allows) quiet hours."""
    items = {(i.kind, i.id): i for i in plan.items}
    sites = [s for s in plan.sites if s.id in site_ids]
    busy = [(p.start, p.end) for p in plan.placements if p.site_id in site_ids and (
        p.start < cutoff or (p.kind == "relay" and items[(p.kind, p.item_id)].mandatory
                             and items[(p.kind, p.item_id)].mode == "live"))]
    busy += [(b.start, b.end) for s in sites for b in s.rules.blackouts]
    t = after
    while t < MONDAY + timedelta(days=7):
        end = t + timedelta(minutes=length)
        quiet = any(not s.rules.emergency_in_quiet_hours and in_quiet_hours(s.rules.quiet_hours, (m.hour * 60 + m.minute))
                    for s in sites for m in (t + timedelta(minutes=k) for k in range(length)))
        if (end.date() == t.date() or end.time() == datetime.min.time()) and not quiet \
                and not any(a < end and t < b for a, b in busy):
            return t
        t += timedelta(minutes=1)
    raise AssertionError("no free minute left in the week")


def on_air(plan, site_id: str, day: str, before: str):
    """The last segment of at least 2 minutes at the site on `day` starting before `before`."""
    return [p for p in by_site(plan)[site_id] if p.kind == "segment" and p.minutes >= 2
            and p.start.date().isoformat() == day and p.start < at(f"{day} {before}")][-1]


# --------------------------------------------------------------------------- emergency


def test_an_emergency_airs_at_the_first_free_minute_at_every_site_and_repeats(week, speech):
    old = week.plan()
    playing = on_air(old, FM1[0], "2024-03-06", "17:00")  # on air at the FM sites when it is sent
    cutoff = playing.start + timedelta(minutes=1)
    assert not any(p.start <= cutoff < p.end for p in by_site(old)[TOWN])  # the town is silent then
    result = week.bulletin("emergency", hhmm(cutoff), "--audio", speech, "--title", "Cảnh báo bão số 3",
                           "--scope", "chu-se", "--repeat", 3, "--every", 60, "--json")
    found = changes(result)
    new = week.plan()
    assert verify(new) == []
    bulletin = emergency_id(new)
    length = next(i for i in new.items if i.id == bulletin).duration_min
    for group in ([TOWN], list(FM1)):
        times = [[p.start for p in airings(new, site, bulletin)] for site in group]
        assert all(t == times[0] for t in times) and len(times[0]) == 3, times  # one transmitter, one schedule
        expected, after = [], cutoff
        for _ in range(3):
            expected.append(first_free(old, group, cutoff, after, length))
            after = expected[-1] + timedelta(minutes=60)
        assert times[0] == expected
        assert all(minutes(a, b) >= 60 for a, b in zip(times[0], times[0][1:]))
    # at the FM sites the item on air is not cut: the bulletin starts the minute it ends
    assert airings(new, FM1[0], bulletin)[0].start == playing.end
    assert airings(new, TOWN, bulletin)[0].start == cutoff
    # outside the town's broadcast windows (06-07, 17-18): emergencies override them
    town = next(s for s in new.sites if s.id == TOWN)
    assert not any(window_at(town.rules.windows, p.start.hour * 60 + p.start.minute)
                   for p in airings(new, TOWN, bulletin))
    assert sorted((c["site"], c["after"]) for c in found if c["id"] == bulletin and c["change"] == "added") == \
           sorted((p.site_id, p.start.isoformat()) for p in new.placements if p.item_id == bulletin)
    # what aired before --from is as it was
    assert [p for p in new.placements if p.start < cutoff] == [p for p in old.placements if p.start < cutoff]


def test_an_emergency_changes_nothing_outside_its_scope(week, speech):
    old = week.plan()
    files = {s.id: week.site_files(s) for s in old.sites if s.id in FM1}
    result = week.bulletin("emergency", "2024-03-07 14:10", "--audio", speech, "--title", "Cảnh báo bão",
                           "--scope", TOWN, "--json")
    assert json.loads(result.stdout)["solved_units"] == [TOWN], result.output
    new = week.plan()
    assert verify(new) == []
    assert [p.start for p in airings(new, TOWN, emergency_id(new))] == [at("2024-03-07 14:10")]
    for site in FM1:
        assert by_site(new)[site] == by_site(old)[site]
        assert week.site_files(next(s for s in new.sites if s.id == site)) == files[site]
    assert {c["site"] for c in changes(result)} == {TOWN}


@pytest.mark.parametrize("cutoff, long", [("2024-03-06 19:10", False), ("2024-03-06 18:58", True)],
                         ids=["relay-on-air", "relay-starts-before-it-would-end"])
def test_an_emergency_never_cuts_a_live_mandatory_relay(week, speech, recording, cutoff, long):
    """VTV1's news, live and mandatory, airs 19:00-19:45 at the FM sites: sent during it, or too
    long to end before it starts, the bulletin airs when it ends, making a session longer than
    the 45 minutes allowed: emergencies override session limits."""
    old = week.plan()
    relay = [p for p in by_site(old)[FM1[0]] if p.item_id == "vtv1-1900" and p.start.date().isoformat() == "2024-03-06"]
    assert [(p.start, p.end) for p in relay] == [(at("2024-03-06 19:00"), at("2024-03-06 19:45"))]
    result = week.bulletin("emergency", cutoff, "--audio", recording if long else speech, "--title", "Cảnh báo lũ",
                           *FM1_SCOPE, "--json")
    assert result.exit_code == 0, result.output
    new = week.plan()
    assert verify(new) == []
    bulletin = emergency_id(new)
    for site in FM1:
        assert [p.start for p in airings(new, site, bulletin)] == [at("2024-03-06 19:45")]
        assert [(p.start, p.end) for p in by_site(new)[site] if p.item_id == "vtv1-1900"] == \
               [(p.start, p.end) for p in by_site(old)[site] if p.item_id == "vtv1-1900"]
    rules = next(s for s in new.sites if s.id == FM1[0]).rules
    (evening,) = [run for run in sessions(new, FM1[0]) if run[0].start == at("2024-03-06 19:00")]
    assert minutes(evening[0].start, evening[-1].end) > rules.max_session_minutes


def test_an_emergency_waits_for_the_end_of_a_blackout(week, speech):
    """Ia Blang's festival silences its transmitter on Wednesday 06:00-12:00 (Ia Hlốp shares it):
    a bulletin sent at 11:30 airs at 12:00."""
    result = week.bulletin("emergency", "2024-03-06 11:30", "--audio", speech, "--title", "Cảnh báo cháy rừng",
                           *FM1_SCOPE, "--json")
    assert result.exit_code == 0, result.output
    new = week.plan()
    assert verify(new) == []
    for site in FM1:
        assert [p.start for p in airings(new, site, emergency_id(new))] == [at("2024-03-06 12:00")]


def test_repeats_the_week_has_no_room_for_are_reported_and_the_rest_airs(week, speech):
    """Sent on Sunday at 20:30 to the town (quiet from 21:00), with 3 airings an hour apart: the
    first airs, the other two have no time left in the week; the operator is told so."""
    result = week.bulletin("emergency", "2024-03-10 20:30", "--audio", speech, "--title", "Cảnh báo giông lốc",
                           "--scope", TOWN, "--repeat", 3, "--every", 60)
    assert result.exit_code == 0, result.output
    assert f"only 1 of 3 airing(s) fit before the week ends at 1 site(s) ({TOWN})" in result.output
    new = week.plan()
    assert verify(new) == []
    assert [p.start for p in airings(new, TOWN, emergency_id(new))] == [at("2024-03-10 20:30")]


def test_an_emergency_goes_over_the_daily_cap(tmp_path, speech):
    data = with_policy(copy_tiny(tmp_path), "[area.chu-se]\ndaily_cap_minutes = 120",
                       "[area.chu-se]\ndaily_cap_minutes = 62")
    week = plan_week(data, tmp_path / "out")
    thursday = "2024-03-07"

    def airtime(plan):
        return sum(p.minutes for p in by_site(plan)[FM1[0]] if p.start.date().isoformat() == thursday)

    old = week.plan()
    assert airtime(old) <= 62
    result = week.bulletin("emergency", f"{thursday} 13:30", "--audio", speech, "--title", "Cảnh báo bão",
                           *FM1_SCOPE, "--repeat", 3, "--every", 60, "--json")
    assert result.exit_code == 0, result.output
    new = week.plan()
    assert verify(new) == []
    assert [p.start.strftime("%H:%M") for p in airings(new, FM1[0], emergency_id(new))] == ["13:30", "14:30", "15:30"]
    assert airtime(new) > next(s for s in new.sites if s.id == FM1[0]).rules.daily_cap_minutes == 62


@pytest.mark.parametrize("allowed", [False, True], ids=["quiet-hours-kept", "policy-allows-quiet-hours"])
def test_quiet_hours_are_kept_unless_the_policy_allows_emergencies_in_them(tmp_path, speech, allowed):
    """The town's quiet hours are 21:00-05:00. Sent at 21:30, the bulletin waits for 05:00 unless
    policy.emergency_in_quiet_hours = true; sent late on Sunday night it has no time left in the
    week and is refused, naming --from, with nothing written."""
    data = copy_tiny(tmp_path)
    if allowed:
        with_policy(data, "[policy]\n", "[policy]\nemergency_in_quiet_hours = true\n")
    week = plan_week(data, tmp_path / "out")
    result = week.bulletin("emergency", "2024-03-06 21:30", "--audio", speech, "--title", "Cảnh báo lũ quét",
                           "--scope", TOWN, "--json")
    assert result.exit_code == 0, result.output
    new = week.plan()
    assert verify(new) == []
    expected = "2024-03-06 21:30" if allowed else "2024-03-07 05:00"
    assert [p.start for p in airings(new, TOWN, emergency_id(new))] == [at(expected)]

    before, dataset = week.outputs(), snapshot(week.data)
    text = tmp_path / "ban-tin.txt"
    text.write_text("Thông báo khẩn: nước sông đang lên nhanh, bà con vùng trũng di chuyển ngay.", encoding="utf-8")
    late = week.bulletin("emergency", "2024-03-10 22:00", "--text", text, "--title", "Lũ lên nhanh",
                         "--scope", TOWN)
    if allowed:
        assert late.exit_code == 0, late.output
        assert [p.start for p in by_site(week.plan())[TOWN] if p.start >= at("2024-03-10 22:00")]
    else:
        assert late.exit_code == 2, late.output
        assert "--from" in late.output and "2024-03-10 22:00" in late.output
        assert week.outputs() == before and snapshot(week.data) == dataset
        # sent again earlier, it is not refused as a duplicate of the one that was not sent
        again = week.bulletin("emergency", "2024-03-10 18:00", "--text", text, "--title", "Lũ lên nhanh",
                              "--scope", TOWN)
        assert again.exit_code == 0, again.output


# --------------------------------------------------------------------------- priority


@pytest.fixture(scope="module")
def announcement(tmp_path_factory):
    """A recorded announcement of about 11.5 minutes: with the town's items it overfills a 15-minute session."""
    return long_speech(tmp_path_factory.mktemp("longer") / "thong-bao-tiem-phong.ogg", 690,
                       "Thông báo lịch tiêm phòng cho trẻ em dưới năm tuổi tại trạm y tế xã.")


def test_a_priority_bulletin_opens_the_next_session_ahead_of_its_items(week, announcement):
    old = week.plan()
    cutoff = at("2024-03-06 12:46")
    result = week.bulletin("priority", hhmm(cutoff), "--audio", announcement, "--title", "Lịch tiêm phòng",
                           "--scope", "chu-se", "--json")
    found = changes(result)
    new = week.plan()
    assert verify(new) == []
    (item,) = [i for i in new.items if i.level == "priority"]
    for site in (TOWN, *FM1):
        (first,) = airings(new, site, item.id)
        # no PAR item airs between --from and the bulletin, and the sessions in between had no room
        assert not [p for p in by_site(new)[site] if p.kind == "segment" and cutoff <= p.start < first.start]
        (session,) = [run for run in sessions(new, site) if first in run]
        rules = next(s for s in new.sites if s.id == site).rules
        between = [run for run in sessions(new, site) if cutoff <= run[0].start < session[0].start]
        assert all(minutes(run[0].start, run[-1].end) + first.minutes > rules.max_session_minutes
                   for run in between), between
        assert first == min((p for p in session if p.kind == "segment"), key=lambda p: p.start)
        # what the bulletin's session held before and no longer holds is listed, with its old time
        held = [p for run in sessions(old, site) for p in run if p.kind == "segment"
                and run[0].start < session[-1].end and session[0].start < run[-1].end]
        displaced = [p for p in held if (p.item_id, p.start.date()) not in
                     {(q.item_id, q.start.date()) for q in session}]
        for p in displaced:
            assert any(c["site"] == site and c["id"] == p.item_id and c["change"] in ("moved", "removed")
                       and c["before"] == p.start.isoformat() for c in found), (p, found)
        if site == TOWN:  # 15-minute sessions: the announcement does not fit with all of the evening's items
            assert first.start.date() == cutoff.date() and first.start.hour == 17
            assert displaced, session
        else:  # Wednesday evening is VTV1's news alone (45 of 45 minutes): Thursday's VOV1 session has room
            assert [p.item_id for p in session if p.kind == "relay"] == ["vov1-0600"]
            assert first.start.date().isoformat() == "2024-03-07"


def test_a_priority_bulletin_can_air_more_than_once(week, speech):
    result = week.bulletin("priority", "2024-03-05 12:00", "--audio", speech, "--title", "Lịch tiêm phòng",
                           "--scope", TOWN, "--repeat", 2, "--json")
    assert result.exit_code == 0, result.output
    new = week.plan()
    assert verify(new) == []
    (item,) = [i for i in new.items if i.level == "priority"]
    plays = airings(new, TOWN, item.id)
    assert len(plays) == 2 and plays[0].start.date() == at("2024-03-05 12:00").date()


# --------------------------------------------------------------------------- refusals


def silence(path: Path) -> Path:
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(path), "trim", "0", "3"], check=True, timeout=30)
    return path


@pytest.mark.parametrize("case", ["silent", "duplicate", "from-after-the-week", "from-before-the-week",
                                  "one-site-of-a-shared-transmitter", "no-site-in-scope-speaks-its-language"])
def test_a_bulletin_that_cannot_be_sent_is_refused_and_nothing_is_written(week, speech, tmp_path, case):
    audio, cutoff, scope, expected = speech, "2024-03-06 14:10", ("--scope", "chu-se"), ()
    if case == "silent":
        audio, expected = silence(tmp_path / "im-lang.wav"), ("sound",)
    elif case == "duplicate":
        audio = tmp_path / "mot-cua.ogg"
        shutil.copyfile(TINY / "audio" / "mot-cua.ogg", audio)
        expected = ("'mot-cua'",)
    elif case == "from-after-the-week":
        cutoff, expected = "2024-03-11 08:00", ("--from", "2024-03-11 08:00")
    elif case == "from-before-the-week":
        cutoff, expected = "2024-03-03 23:00", ("--from",)
    elif case == "one-site-of-a-shared-transmitter":  # Ia Blang alone: its transmitter also serves Ia Hlốp
        scope, expected = ("--scope", FM1[0]), ("--scope", FM1[0], FM1[1])
    else:  # the town broadcasts in Vietnamese only
        scope, expected = ("--scope", TOWN, "--language", "jra"), ("--scope", "'jra'", "nowhere")
    before, dataset = week.outputs(), snapshot(week.data)
    for level in ("emergency", "priority"):
        result = week.bulletin(level, cutoff, "--audio", audio, "--title", "Bản tin", *scope)
        assert result.exit_code == 2, (level, result.output)
        assert all(text in result.output for text in expected), (level, result.output)
        assert week.outputs() == before  # plan.json, calendars, manifests
        assert snapshot(week.data) == dataset  # segments.csv, audio/


# --------------------------------------------------------------------------- a CalDAV server


def file_events(path: Path) -> dict[str, tuple]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(ev["UID"]): _event(ev) for ev in cal.walk("VEVENT")}


def _event(ev) -> tuple:
    """(SEQUENCE, STATUS, DTSTART, DTEND, SUMMARY, DESCRIPTION)"""
    return (int(ev.get("SEQUENCE", 0)), str(ev.get("STATUS", "")), ev["DTSTART"].dt, ev["DTEND"].dt,
            str(ev["SUMMARY"]), str(ev.get("DESCRIPTION", "")))


def server_events(remote) -> dict[str, tuple]:
    monday = MONDAY.replace(tzinfo=TZ)
    found = remote.search(start=monday, end=monday + timedelta(days=7), event=True, expand=False, post_filter=False)
    out = {}
    for obj in found:
        (ev,) = obj.icalendar_instance.walk("VEVENT")
        out[str(ev["UID"])] = _event(ev)
    return out


def upload(remote, path: Path) -> None:
    for ics in one_event_calendars(icalendar.Calendar.from_ical(path.read_bytes())):
        remote.add_event(ics, increase_seqno=False)  # the file's SEQUENCE, as a subscribed client gets it


def check_update(before: dict, after: dict) -> None:
    """Every event changed since the last upload has a higher SEQUENCE; the others keep theirs."""
    for uid, now in after.items():
        if uid in before:
            if now[1:] != before[uid][1:]:
                assert now[0] > before[uid][0], (before[uid], now)
            else:
                assert now[0] == before[uid][0], (before[uid], now)


def test_radicale_shows_the_changed_sessions_and_cancels_the_dropped_ones(week, speech, radicale, monkeypatch):
    """An FM site's calendar on a real CalDAV server through the week: as planned; after an
    emergency sent on Wednesday (the session it joins is updated); after the centre allows two
    sessions a day from Thursday (a Thursday session is dropped: cancelled on the server)."""
    import caldav

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    old = week.plan()
    site = next(s for s in old.sites if s.id == FM1[0])
    path = week.calendar(site)
    client = caldav.DAVClient(url=radicale, username=USER, password=PASSWORD, enable_rfc6764=False, timeout=30)
    remote = client.principal().make_calendar(name=site.name, cal_id=f"{site.id}-week")
    upload(remote, path)
    sent = server_events(remote)
    assert sent == file_events(path) and {e[0] for e in sent.values()} == {0}

    # Wednesday: an emergency, sent while an item is on air
    playing = on_air(old, site.id, "2024-03-06", "17:00")
    result = week.bulletin("emergency", hhmm(playing.start + timedelta(minutes=1)), "--audio", speech,
                           "--title", "Cảnh báo bão số 3", *FM1_SCOPE, "--json")
    assert result.exit_code == 0, result.output
    upload(remote, path)
    now = server_events(remote)
    assert now == file_events(path)
    check_update(sent, now)
    joined = [uid for uid, ev in now.items() if ev[2] <= playing.start.replace(tzinfo=TZ) < ev[3]]
    assert len(joined) == 1 and now[joined[0]][0] == 1 and "Cảnh báo bão số 3" in now[joined[0]][5]
    assert not [ev for ev in now.values() if ev[1] == "CANCELLED"]

    # Thursday: two sessions a day at most (the plan has three at the FM sites that day)
    thursday = [run for run in sessions(week.plan(), site.id) if run[0].start.date().isoformat() == "2024-03-07"]
    assert len(thursday) == 3
    result = week.replan("2024-03-07 00:00", "--set", "policy.max_sessions_per_day=2", "--json")
    assert result.exit_code == 0, result.output
    assert len([run for run in sessions(week.plan(), site.id) if run[0].start.date().isoformat() == "2024-03-07"]) == 2
    upload(remote, path)
    later = server_events(remote)
    assert later == file_events(path) and set(later) >= set(now)  # updated in place, nothing lost
    check_update(now, later)
    cancelled = [uid for uid, ev in later.items() if ev[1] == "CANCELLED"]
    assert cancelled and all(later[uid][0] == now[uid][0] + 1 and later[uid][2].date().isoformat() == "2024-03-07"
                             for uid in cancelled)
    assert [uid for uid, ev in later.items() if ev[1] != "CANCELLED" and ev[0] > now[uid][0]]  # and one updated


def test_planning_the_week_again_from_scratch_warns_that_it_drops_the_emergency(week, speech):
    """`loa plan` never places an emergency bulletin (only `loa bulletin` does, and `loa replan`
    keeps it): planning its week from scratch says so, naming the bulletin."""
    sent = week.bulletin("emergency", "2024-03-06 14:10", "--audio", speech, "--title", "Cảnh báo sạt lở",
                         "--scope", TOWN)
    assert sent.exit_code == 0, sent.output
    (bulletin,) = [i.id for i in week.plan().items if i.level == "emergency"]
    again = loa("plan", "--data", week.data, "--week", WEEK, "--out", week.out, "--workers", 1)
    assert again.exit_code == 0, again.output
    assert "emergency bulletin(s) of this week" in again.output and bulletin in again.output
    assert not [p for p in week.plan().placements if p.item_id == bulletin]


@pytest.mark.parametrize("moment", ["added", "staged"])
def test_a_bulletin_stopped_by_sigterm_leaves_the_dataset_and_the_outputs_as_they_were(week, speech, moment):
    """`kill`, `timeout` or a supervisor stop a bulletin mid-way (as soon as it is in segments.csv,
    or once the re-plan stages its files): it is taken out of the dataset again, nothing is
    switched in, exit code 143."""
    before, dataset = week.outputs(), snapshot(week.data)
    csv = (week.data / "segments.csv").read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "scheduler.cli", "bulletin", "--plan", str(week.plan_path), "--data", str(week.data),
                             "--level", "emergency", "--audio", str(speech), "--title", "Bản tin khẩn",
                             "--scope", "chu-se", "--from", "2024-03-06 14:10", "--repeat", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    def reached() -> bool:
        if moment == "added":
            return (week.data / "segments.csv").read_bytes() != csv
        return any((week.out / ".loa-staging").glob("run-*/new/audio_manifests"))

    while not reached() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert week.outputs() == before
    assert snapshot(week.data) == dataset
