"""Real clients, no mocks: a Radicale CalDAV server with the caldav client; ffmpeg and Liquidsoap
playing a day's manifest."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from conftest import PASSWORD, USER
from export_helpers import DISTRICT, WEEK, build_plan, export_week, one_event_calendars
from scheduler.export import export_all

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clients")
    plan, _, _, out = export_week(tmp)
    return plan, out, tmp


WED_MORNING = {
    # the Wednesday morning events (05:00-09:00 +07:00) a client in UTC asks the server for
    "items": [
        (datetime(2024, 3, 5, 23, 0, tzinfo=timezone.utc), "Tiếp sóng trực tiếp Thời sự sáng VOV1"),
        (datetime(2024, 3, 5, 23, 30, tzinfo=timezone.utc), "Dịch vụ công trực tuyến: hướng dẫn nộp hồ sơ ở nhà"),
        (datetime(2024, 3, 5, 23, 35, tzinfo=timezone.utc), "Căn cước công dân gắn chíp: thủ tục và lệ phí"),
    ],
    "sessions": [(datetime(2024, 3, 5, 23, 0, tzinfo=timezone.utc), "Buổi sáng: Tiếp sóng VOV1 + 2 tin CCHC")],
}


@pytest.mark.parametrize("detail", ["sessions", "items"])
def test_radicale_serves_back_every_event_of_a_site_calendar(exported, radicale, monkeypatch, detail):
    import caldav

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    plan, out, _ = exported
    export_all(plan, out, detail)
    path = out / "calendars" / WEEK / DISTRICT / ("ia-ka.ics" if detail == "sessions" else "ia-ka.items.ics")
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    expected = sorted((ev["DTSTART"].dt, ev["DTEND"].dt, str(ev["SUMMARY"]), str(ev["UID"]), len(ev.walk("VALARM")))
                      for ev in cal.walk("VEVENT"))
    kinds = [str(ev["X-LOA-KIND"]) for ev in cal.walk("VEVENT")]
    if detail == "items":
        assert len(expected) == sum(p.site_id == "ia-ka" for p in plan.placements) + kinds.count("record")
    else:
        assert set(kinds) == {"session", "record"} and kinds.count("record") == 1

    client = caldav.DAVClient(url=radicale, username=USER, password=PASSWORD, enable_rfc6764=False, timeout=30)
    principal = client.principal()
    remote = principal.make_calendar(name=str(cal["X-WR-CALNAME"]), cal_id=f"ia-ka-{detail}")
    for ics in one_event_calendars(cal):
        remote.add_event(ics)

    monday = datetime(2024, 3, 4, tzinfo=TZ)
    found = remote.search(start=monday, end=monday + timedelta(days=7), event=True, expand=False, post_filter=False)
    got = []
    for obj in found:
        (ev,) = obj.icalendar_instance.walk("VEVENT")
        start, end = ev["DTSTART"].dt, ev["DTEND"].dt
        assert start.utcoffset() == timedelta(hours=7)  # aware, local wall clock
        got.append((start, end, str(ev["SUMMARY"]), str(ev["UID"]), len(ev.walk("VALARM"))))
    assert sorted(got) == expected  # every event, its alarm kept by the server

    # a narrower server-side query: Wednesday morning only, as a client in UTC asks it
    wed_utc = datetime(2024, 3, 5, 22, 0, tzinfo=timezone.utc)  # = Wed 05:00 +07:00
    morning = remote.search(start=wed_utc, end=wed_utc + timedelta(hours=4), event=True, expand=False,
                            post_filter=False)
    titles = sorted((o.icalendar_instance.walk("VEVENT")[0]["DTSTART"].dt.astimezone(timezone.utc),
                     str(o.icalendar_instance.walk("VEVENT")[0]["SUMMARY"])) for o in morning)
    assert titles == WED_MORNING[detail]


@pytest.mark.parametrize("detail, item_id, kind", [("items", "khai-sinh-jrai", "segment"),
                                                   ("sessions", "khai-sinh-jrai", "session")])
def test_radicale_marks_a_dropped_event_cancelled_after_a_re_upload(radicale, tmp_path, monkeypatch, detail,
                                                                    item_id, kind):
    """Upload a site calendar, re-plan without one placement, export over it and upload again:
    the server keeps the event under its UID, now STATUS:CANCELLED with SEQUENCE 1. At the
    sessions level, dropping Tuesday evening's item leaves a session of the relay alone: the
    session keeps its UID and is updated (SEQUENCE 1), nothing is cancelled."""
    import dataclasses

    import caldav

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    plan, _, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out, detail)
    path = out / "calendars" / WEEK / DISTRICT / ("ia-ka.ics" if detail == "sessions" else "ia-ka.items.ics")
    client = caldav.DAVClient(url=radicale, username=USER, password=PASSWORD, enable_rfc6764=False, timeout=30)
    first = icalendar.Calendar.from_ical(path.read_bytes())
    remote = client.principal().make_calendar(name=str(first["X-WR-CALNAME"]), cal_id=f"ia-ka-cancel-{detail}")
    for ics in one_event_calendars(first):
        remote.add_event(ics, increase_seqno=False)  # caldav 3.x would otherwise bump SEQUENCE on every save

    dropped = next(p for p in plan.placements if p.site_id == "ia-ka" and p.item_id == item_id
                   and p.start.date().isoformat() == "2024-03-05")
    export_all(dataclasses.replace(plan, placements=tuple(p for p in plan.placements if p != dropped)), out, detail)
    for ics in one_event_calendars(icalendar.Calendar.from_ical(path.read_bytes())):
        remote.add_event(ics, increase_seqno=False)  # same UID: the server updates the stored event

    monday = datetime(2024, 3, 4, tzinfo=TZ)
    found = remote.search(start=monday, end=monday + timedelta(days=7), event=True, expand=False, post_filter=False)
    events = [obj.icalendar_instance.walk("VEVENT")[0] for obj in found]
    assert len(events) == len(first.walk("VEVENT"))  # updated in place, nothing duplicated
    changed = [ev for ev in events if int(ev["SEQUENCE"]) == 1]
    assert len(changed) == 1
    (ev,) = changed
    assert str(ev["X-LOA-KIND"]) == kind
    if detail == "items":
        assert str(ev["STATUS"]) == "CANCELLED" and str(ev["X-LOA-ITEM"]) == item_id
        assert ev["DTSTART"].dt == dropped.start.replace(tzinfo=TZ)
    else:
        assert str(ev["STATUS"]) == "CONFIRMED"
        assert str(ev["SUMMARY"]) == "Buổi chiều: Tiếp sóng Đài PT-TH Gia Lai"
        assert ev["DTEND"].dt == datetime(2024, 3, 5, 18, 20, tzinfo=TZ)
        assert "Đăng ký khai sinh" not in str(ev["DESCRIPTION"])


def _manifest_files(manifest: Path) -> list[Path]:
    """Local files of an .m3u8 in order (URLs and comments are not files)."""
    lines = manifest.read_text(encoding="utf-8").splitlines()
    return [(manifest.parent / ln).resolve() for ln in lines
            if ln and not ln.startswith("#") and "://" not in ln]


def _decoded_seconds(path: Path) -> float:
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", "8000", "-"], check=True, capture_output=True, timeout=60).stdout
    return len(pcm) / 2 / 8000


def _day(out: Path):
    folder = out / "audio_manifests" / WEEK / "ia-ka"
    manifest = folder / "2024-03-06.m3u8"  # Wednesday: wav, mp3 twice, ogg
    doc = json.loads((folder / "2024-03-06.json").read_text(encoding="utf-8"))
    durations = [r["duration_s"] for r in doc["items"] if r["kind"] == "segment"]
    return manifest, durations


def test_ffmpeg_plays_a_day_manifest_for_the_sum_of_its_durations(exported, tmp_path):
    """ffmpeg decodes every file of the playlist in order into one recording.

    The concat *demuxer* (`-f concat list.txt`) cannot mix codecs (wav + mp3 + ogg: it decodes
    everything with the first file's codec), so the player here is the concat *filter*."""
    _, out, _ = exported
    manifest, durations = _day(out)
    files = _manifest_files(manifest)
    assert len(files) == len(durations) == 4 and all(f.is_file() for f in files)
    inputs = [arg for f in files for arg in ("-i", str(f))]
    graph = "".join(f"[{i}:a]" for i in range(len(files))) + f"concat=n={len(files)}:v=0:a=1[out]"
    played = tmp_path / "day.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", graph,
                    "-map", "[out]", str(played)], check=True, timeout=60)
    assert abs(_decoded_seconds(played) - sum(durations)) <= 1.0 * len(durations)
    assert abs(_decoded_seconds(played) - sum(durations)) < 0.1  # in fact within a few ms


def test_ffmpeg_concat_demuxer_plays_a_single_codec_manifest(exported, tmp_path):
    """The concat demuxer, as a station's ffmpeg-based player uses it, on a day of one codec."""
    _, out, _ = exported
    manifest = out / "audio_manifests" / WEEK / "nghia-hung" / "2024-03-05.m3u8"  # the wav segment only
    doc = json.loads(manifest.with_suffix(".json").read_text(encoding="utf-8"))
    durations = [r["duration_s"] for r in doc["items"] if r["kind"] == "segment"]
    files = _manifest_files(manifest)
    assert {f.suffix for f in files} == {".wav"}
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file '{f}'\n" for f in files + files))  # the day played twice
    played = tmp_path / "demuxed.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    str(played)], check=True, timeout=60)
    assert abs(_decoded_seconds(played) - 2 * sum(durations)) <= 1.0 * 2 * len(durations)


@pytest.mark.skipif(shutil.which("liquidsoap") is None, reason="Debian liquidsoap not installed")
def test_liquidsoap_plays_a_day_manifest_for_the_sum_of_its_durations(exported, tmp_path):
    _, out, _ = exported
    manifest, durations = _day(out)
    files = _manifest_files(manifest)
    played = tmp_path / "liquidsoap.wav"
    script = tmp_path / "play.liq"
    # request.dynamic + add() before playback: every track plays (TOOLING-NOTES: playlist() drops some)
    script.write_text(
        "settings.init.allow_root.set(true)\n"
        "settings.log.stdout.set(false)\n"
        "settings.log.file.set(false)\n"
        f"files = [{', '.join(json.dumps(str(f)) for f in files)}]\n"
        "q = request.dynamic(fun () -> null())\n"
        "list.iter(fun (f) -> ignore(q.add(request.create(f))), files)\n"
        "clock.assign_new(sync=\"none\", [q])\n"
        f"output.file(%wav(stereo), {json.dumps(str(played))}, fallible=true, on_stop=shutdown, q)\n"
    )
    run = subprocess.run(["timeout", "60", "liquidsoap", str(script)], capture_output=True, text=True,
                         env={**os.environ, "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    seconds = _decoded_seconds(played)  # ffmpeg copes with Liquidsoap's placeholder WAV length
    assert abs(seconds - sum(durations)) <= 1.0 * len(durations), (seconds, durations)
