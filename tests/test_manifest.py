"""Day manifests (.m3u8 + .json): real durations and checksums, air order, atomic export."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from export_helpers import SITES, WEEK, build_plan, decoded_duration, once_a_day, valid_plan_file
from scheduler.cli import main
from scheduler.domain import week_days
from scheduler.errors import ExportError
from scheduler.export import export_all

JSON_FIELDS = {"start", "end", "kind", "mode", "record_at", "id", "title", "source", "language", "topic", "audio",
               "duration_s", "sha256"}



@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("manifest")
    plan, data, plan_path = build_plan(tmp)
    out = tmp / "out"
    summary = export_all(plan, out)
    return plan, data, plan_path, out, summary


def _manifest_dir(out: Path, site_id: str) -> Path:
    return out / "audio_manifests" / WEEK / site_id


def test_one_m3u8_and_one_json_per_site_and_day(exported):
    plan, _, _, out, summary = exported
    for site in SITES:
        names = sorted(p.name for p in _manifest_dir(out, site.id).iterdir())
        assert names == sorted([f"{d}.m3u8" for d in week_days(WEEK)] + [f"{d}.json" for d in week_days(WEEK)])
    assert summary.manifests == len(SITES) * 7
    assert summary.audio_files == 3


def test_json_manifest_has_exact_local_times_real_durations_and_checksums(exported):
    plan, data, _, out, _ = exported
    for site in SITES:
        for day in week_days(WEEK):
            doc = json.loads((_manifest_dir(out, site.id) / f"{day}.json").read_text(encoding="utf-8"))
            assert (doc["site"], doc["date"], doc["timezone"]) == (site.id, day.isoformat(), "Asia/Ho_Chi_Minh")
            expected = sorted((p.start, p.kind, p.item_id) for p in plan.placements
                              if p.site_id == site.id and p.start.date() == day)
            got = []
            for row in doc["items"]:
                assert JSON_FIELDS <= set(row)
                start, end = datetime.fromisoformat(row["start"]), datetime.fromisoformat(row["end"])
                assert row["start"].endswith("+07:00") and row["end"].endswith("+07:00")
                assert start.utcoffset().total_seconds() == 7 * 3600 and end > start
                got.append((start.replace(tzinfo=None), row["kind"], row["id"]))
                if row["kind"] == "segment":
                    audio = data / row["audio"]
                    assert row["sha256"] == hashlib.sha256(audio.read_bytes()).hexdigest()
                    assert abs(row["duration_s"] - decoded_duration(audio)) < 0.01
                else:
                    assert row["audio"] is None and row["sha256"] is None
            assert got == expected  # air order, nothing missing or extra


def test_m3u8_lists_recorded_items_relative_to_itself_and_relays_as_url_or_comment(exported):
    plan, data, _, out, _ = exported
    folder = _manifest_dir(out, "ia-ka")
    raw = (folder / "2024-03-06.m3u8").read_bytes()
    text = raw.decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    doc = json.loads((folder / "2024-03-06.json").read_text(encoding="utf-8"))
    entries = [ln for ln in lines if not ln.startswith("#")]
    extinf = [ln for ln in lines if ln.startswith("#EXTINF:")]
    # recorded items: relative path that resolves to the dataset's file; relay with URL: the URL
    assert entries == [
        "https://stream.example.vn/vov1.m3u8",
        "../../../../data/tiny/audio/dich-vu-cong.wav",
        "../../../../data/tiny/audio/can-cuoc.mp3",
        "../../../../data/tiny/audio/can-cuoc.mp3",
        "../../../../data/tiny/audio/khai-sinh-jrai.ogg",
    ]
    for rel in entries[1:]:
        assert (folder / rel).resolve() == (data / "audio" / Path(rel).name).resolve()
    segs = [r for r in doc["items"] if r["kind"] == "segment"]
    assert extinf[0] == "#EXTINF:-1,Thời sự sáng VOV1"
    assert extinf[1:] == [f"#EXTINF:{max(1, round(r['duration_s']))},{r['title']}" for r in segs]
    # the relay without a stream is a comment with its time and source
    assert "# RELAY 18:00-18:20 Đài PT-TH Gia Lai Thời sự Gia Lai — Đài PT-TH tỉnh" in lines
    assert "\r" not in text
    # each session opens with a comment naming it
    assert [ln for ln in lines if ln.startswith("# SESSION")] == [
        "# SESSION 06:00-06:36 Buổi sáng: Tiếp sóng VOV1 + 2 tin CCHC",
        "# SESSION 11:00-11:01 Buổi trưa: 1 tin CCHC",
        "# SESSION 18:00-18:26 Buổi chiều: Tiếp sóng Đài PT-TH Gia Lai + 1 tin CCHC"]


def test_a_deferred_relay_aired_late_is_recorded_and_never_played_from_the_stream(exported):
    """Thursday's provincial news airs at 18:05, 5 minutes after its source time: a recording."""
    plan, _, _, out, _ = exported
    folder = _manifest_dir(out, "ia-ka")
    doc = json.loads((folder / "2024-03-07.json").read_text(encoding="utf-8"))
    modes = {(r["id"], r["start"][11:16]): (r["mode"], r["record_at"]) for r in doc["items"]}
    assert modes[("vov1-thoi-su", "06:00")] == ("live", None)
    assert modes[("dich-vu-cong", "06:30")] == ("file", None)
    assert modes[("gl-thoi-su", "18:05")] == ("recorded", "2024-03-07T18:00:00+07:00")
    # the same deferred relay at its source time (Wednesday) is relayed live
    wed = json.loads((folder / "2024-03-06.json").read_text(encoding="utf-8"))
    assert [(r["mode"], r["record_at"]) for r in wed["items"] if r["id"] == "gl-thoi-su"] == [("live", None)]
    lines = (folder / "2024-03-07.m3u8").read_text(encoding="utf-8").splitlines()
    assert "# RECORDED 18:05-18:25 Đài PT-TH Gia Lai Thời sự Gia Lai — Đài PT-TH tỉnh (record at 18:00)" in lines
    assert not any(ln.startswith("# RELAY 18:05") for ln in lines)


def test_json_lists_sessions_and_the_files_to_start_after_a_relay(exported):
    _, _, _, out, _ = exported
    doc = json.loads((_manifest_dir(out, "ia-ka") / "2024-03-07.json").read_text(encoding="utf-8"))
    assert doc["sessions"] == [
        {"start": "2024-03-07T06:00:00+07:00", "end": "2024-03-07T06:31:00+07:00", "daypart": "sáng",
         "title": "Buổi sáng: Tiếp sóng VOV1 + 1 tin CCHC",
         "files": [{"name": "ia-ka_2024-03-07_0630", "start": "2024-03-07T06:30:00+07:00",
                    "after_relay": "vov1-thoi-su"}]},
        {"start": "2024-03-07T18:05:00+07:00", "end": "2024-03-07T18:31:00+07:00", "daypart": "chiều",
         "title": "Buổi chiều: Phát lại Đài PT-TH Gia Lai (ghi lúc 18:00) + 1 tin CCHC",
         "files": [{"name": "ia-ka_2024-03-07_1830", "start": "2024-03-07T18:30:00+07:00",
                    "after_relay": "gl-thoi-su"}]},
    ]


def test_missing_audio_names_the_file_and_writes_nothing(tmp_path):
    plan, data, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    (data / "audio" / "can-cuoc.mp3").unlink()
    with pytest.raises(ExportError) as err:
        export_all(plan, out)
    assert "can-cuoc.mp3" in str(err.value) and "not found" in str(err.value)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert after == before  # previous outputs untouched, no temp file left behind
    # and into a fresh folder: not a single file
    fresh = tmp_path / "fresh"
    with pytest.raises(ExportError):
        export_all(plan, fresh)
    assert not fresh.exists() or not any(fresh.rglob("*"))


def test_silent_and_undecodable_audio_are_both_reported(tmp_path):
    from pydub import AudioSegment

    plan, data, _ = build_plan(tmp_path)
    AudioSegment.silent(duration=1500, frame_rate=16000).export(data / "audio" / "dich-vu-cong.wav", format="wav")
    (data / "audio" / "khai-sinh-jrai.ogg").write_bytes(b"this is not an ogg file\n" * 20)
    with pytest.raises(ExportError) as err:
        export_all(plan, tmp_path / "out2")
    msg = str(err.value)
    assert "dich-vu-cong.wav" in msg and "silent" in msg
    assert "khai-sinh-jrai.ogg" in msg and "cannot be decoded" in msg
    assert "can-cuoc.mp3" not in msg
    assert not (tmp_path / "out2").exists()


def test_cli_export_rewrites_calendars_and_manifests_from_a_saved_plan(tmp_path):
    plan, data, _ = build_plan(tmp_path)
    plan = once_a_day(plan)
    plan_path = valid_plan_file(plan, tmp_path / "plans" / "plan.json")
    out = tmp_path / "exported"
    result = CliRunner().invoke(main, ["export", "--plan", str(plan_path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["calendars"] == 3 and counts["manifests"] == 14 and counts["detail"] == "sessions"
    assert (out / "calendars" / WEEK / "chu-pah" / "ia-ka.ics").is_file()
    assert not (out / "calendars" / WEEK / "chu-pah" / "ia-ka.items.ics").exists()
    result = CliRunner().invoke(main, ["export", "--plan", str(plan_path), "--out", str(out), "--json",
                                       "--detail", "items"])
    assert result.exit_code == 0, result.output
    recorded = 2  # Thursday's late provincial news at both sites: its recording is an event too
    assert json.loads(result.output)["events"] == len(plan.placements) + recorded
    assert (out / "calendars" / WEEK / "chu-pah" / "ia-ka.items.ics").is_file()
    assert (out / "audio_manifests" / WEEK / "nghia-hung" / "2024-03-10.m3u8").is_file()
    assert not (out / "audio_manifests" / WEEK / "plan.json").exists()  # plan.json stays where it is

    result = CliRunner().invoke(main, ["export", "--plan", str(plan_path), "--out", str(out)])
    assert result.exit_code == 0 and "3 calendars" in result.output

    shutil.move(data / "audio" / "dich-vu-cong.wav", tmp_path / "elsewhere.wav")
    result = CliRunner().invoke(main, ["export", "--plan", str(plan_path), "--out", str(out)])
    assert result.exit_code == ExportError.exit_code
    assert "dich-vu-cong.wav" in result.output and "Traceback" not in result.output


def test_no_temp_files_are_left_behind(exported):
    _, _, _, out, _ = exported
    leftovers = [p for p in out.rglob("*") if (p.name.startswith(".") or p.name.endswith(".tmp"))
                 and p.name != ".loa.lock"]  # the lock of --out stays (empty), as in every output folder
    assert leftovers == []
    assert all(os.stat(p).st_mode & 0o644 == 0o644 for p in out.rglob("*") if p.is_file())


def test_audio_replaced_since_planning_stops_the_export(tmp_path):
    import dataclasses
    import hashlib

    plan, data, _ = build_plan(tmp_path)
    planned = {i.id: hashlib.sha256((data / i.audio).read_bytes()).hexdigest() for i in plan.items if i.audio}
    plan = dataclasses.replace(plan, items=tuple(
        dataclasses.replace(i, sha256=planned.get(i.id, "")) for i in plan.items))
    export_all(plan, tmp_path / "ok")  # the planned bytes export
    (data / "audio" / "can-cuoc.mp3").write_bytes((data / "audio" / "dich-vu-cong.wav").read_bytes())
    with pytest.raises(ExportError) as err:
        export_all(plan, tmp_path / "out3")
    assert "can-cuoc.mp3: changed since the plan was made" in str(err.value)
    assert not (tmp_path / "out3").exists()
