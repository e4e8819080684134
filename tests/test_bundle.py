"""The week bundle plays from an empty folder: unzip it (Info-ZIP `unzip`) far from the dataset,
delete the dataset, and play a day and a session with ffmpeg."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from ical.calendar_stream import IcsCalendarStream

from export_helpers import DISTRICT, WEEK, build_plan, decoded_duration, export_week, valid_plan_file
from scheduler.cli import main
from scheduler.export.bundle import bundle_files, bundle_path, write_bundles

FOLDER = f"ia-ka_{WEEK}"


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    plan, data, _, out = export_week(tmp_path_factory.mktemp("bundle"))
    return plan, data, out, write_bundles(plan, out)


@pytest.fixture
def unzipped(bundled, tmp_path):
    """Ia Ka's bundle unzipped into an empty folder elsewhere, with the dataset gone meanwhile."""
    plan, data, out, _ = bundled
    zipped = tmp_path / "phone" / "received.zip"
    zipped.parent.mkdir()
    shutil.copy(bundle_path(plan, out, "ia-ka"), zipped)
    here = tmp_path / "empty"
    here.mkdir()
    assert not any(here.iterdir())
    subprocess.run(["unzip", "-q", str(zipped), "-d", str(here)], check=True, timeout=60)
    away = data.with_name("away")
    data.rename(away)  # nothing may point back into the dataset while the folder plays
    yield here / FOLDER
    away.rename(data)


def _entries(m3u8: Path) -> list[str]:
    return [ln for ln in m3u8.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]


def _play(files: list[Path], out: Path) -> float:
    """ffmpeg's concat demuxer, as a station's player uses it (every file is MP3 now)."""
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{f}'\n" for f in files), encoding="utf-8")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    str(out)], check=True, timeout=60)
    return decoded_duration(out)


def test_one_zip_per_site_and_week_with_everything_inside(bundled):
    plan, _, out, paths = bundled
    assert sorted(p.relative_to(out).as_posix() for p in paths) == [
        f"bundles/{WEEK}/{DISTRICT}/ia-ka_{WEEK}.zip", f"bundles/{WEEK}/{DISTRICT}/nghia-hung_{WEEK}.zip"]
    with zipfile.ZipFile(paths[0]) as zf:
        names = zf.namelist()
    assert all(n.startswith(FOLDER + "/") for n in names)  # one folder: unzipping scatters nothing
    inside = {n[len(FOLDER) + 1:] for n in names}
    days = [f"2024-03-{d:02d}" for d in range(4, 11)]
    assert {f"{d}.m3u8" for d in days} | {f"{d}.json" for d in days} <= inside
    assert {"lich.ics", "lich-phat-song.pdf", "lich-phat-song.html", "DOC-TRUOC.txt"} <= inside
    assert {n for n in inside if n.startswith("audio/")} == {
        "audio/can-cuoc.mp3", "audio/dich-vu-cong.mp3", "audio/khai-sinh-jrai.mp3"}  # wav, mp3, ogg: all MP3 now
    assert "buoi-phat/ia-ka_2024-03-07_1830.m3u8" in inside  # after Thursday's recorded news


def test_a_day_plays_from_an_empty_folder_with_ffmpeg(unzipped, tmp_path):
    day = unzipped / "2024-03-06.m3u8"  # Wednesday: four recorded items in three sessions
    refs = _entries(day)
    files = [unzipped / r for r in refs if "://" not in r]
    assert len(files) == 4 and all(not Path(r).is_absolute() and ".." not in Path(r).parts for r in refs)
    assert all(f.resolve().is_relative_to(unzipped.resolve()) and f.is_file() for f in files)
    doc = json.loads((unzipped / "2024-03-06.json").read_text(encoding="utf-8"))
    segs = [r for r in doc["items"] if r["kind"] == "segment"]
    assert [r["audio"] for r in segs] == [r for r in refs if "://" not in r]
    for r in segs:  # the manifest describes the MP3 in the folder, not the dataset's file
        data = (unzipped / r["audio"]).read_bytes()
        assert r["sha256"] == hashlib.sha256(data).hexdigest()
        assert abs(r["duration_s"] - decoded_duration(unzipped / r["audio"])) < 0.1
    played = _play(files, tmp_path / "wednesday.wav")
    assert abs(played - sum(r["duration_s"] for r in segs)) < 0.1 * len(segs)


def test_a_session_playlist_starts_after_the_relay_and_plays(unzipped, tmp_path):
    playlist = unzipped / "buoi-phat" / "ia-ka_2024-03-07_1830.m3u8"
    text = playlist.read_text(encoding="utf-8")
    assert "bắt đầu 18:30 (sau khi phát lại Đài PT-TH Gia Lai kết thúc)" in text
    refs = _entries(playlist)
    assert refs == ["../audio/khai-sinh-jrai.mp3"]
    files = [(playlist.parent / r) for r in refs]
    assert abs(_play(files, tmp_path / "thursday.wav") - decoded_duration(files[0])) < 0.1
    # every playlist named in the day's JSON is in the folder, and only those
    named = {f["name"] for d in unzipped.glob("*.json")
             for s in json.loads(d.read_text(encoding="utf-8"))["sessions"] for f in s["files"]}
    assert {p.stem for p in (unzipped / "buoi-phat").iterdir()} == named


def test_the_bundle_holds_the_operator_calendar_and_the_printed_page(bundled, unzipped):
    plan, _, out, _ = bundled
    ics = (unzipped / "lich.ics").read_bytes()
    assert ics == (out / "calendars" / WEEK / DISTRICT / "ia-ka.ics").read_bytes()  # what `loa export` wrote
    strict = IcsCalendarStream.calendar_from_ics(ics.decode("utf-8"))
    assert strict.events and all(e.summary.startswith(("Buổi ", "Ghi âm ")) for e in strict.events)
    info = subprocess.run(["pdfinfo", str(unzipped / "lich-phat-song.pdf")], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    readme = (unzipped / "DOC-TRUOC.txt").read_text(encoding="utf-8")
    assert "Tuần 10 (04–10/3/2024) – Xã Ia Ka" in readme and "buoi-phat/" in readme
    for text in unzipped.rglob("*.*"):
        if text.suffix in (".txt", ".m3u8", ".json", ".ics", ".html"):
            assert unicodedata.is_normalized("NFC", text.read_text(encoding="utf-8")), text.name


def test_bundles_are_byte_identical_and_dated_by_the_plan(bundled):
    plan, _, out, paths = bundled
    again = bundle_files(plan, out)
    assert again == {p: p.read_bytes() for p in paths}
    with zipfile.ZipFile(paths[0]) as zf:
        for info in zf.infolist():
            assert info.date_time == (2024, 3, 4, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 == 0o644
            assert info.compress_type == (zipfile.ZIP_STORED if info.filename.endswith((".mp3", ".pdf"))
                                          else zipfile.ZIP_DEFLATED)


def test_cli_export_bundle_for_one_site(tmp_path):
    plan, _, _ = build_plan(tmp_path)
    plan_path = valid_plan_file(plan, tmp_path / "plans" / "plan.json")  # the CLI re-verifies plans
    out = tmp_path / "cli"
    runner = CliRunner()
    res = runner.invoke(main, ["export", "--plan", str(plan_path), "--out", str(out), "--bundle",
                               "--site", "nghia-hung", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.splitlines()[-1])["bundles"] == 1
    assert [p.name for p in (out / "bundles").rglob("*.zip")] == [f"nghia-hung_{WEEK}.zip"]
    # the bundles are staged and switched in with the calendars: another site's run keeps this zip
    first = next((out / "bundles").rglob("*.zip")).read_bytes()
    res = runner.invoke(main, ["export", "--plan", str(plan_path), "--out", str(out), "--bundle", "--site", "ia-ka"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / "bundles").rglob("*.zip")) == [f"ia-ka_{WEEK}.zip", f"nghia-hung_{WEEK}.zip"]
    assert next((out / "bundles").rglob(f"nghia-hung_{WEEK}.zip")).read_bytes() == first
    assert not (out / ".loa-staging").exists()
    res = runner.invoke(main, ["export", "--plan", str(plan_path), "--out", str(out), "--site", "nghia-hung"])
    assert res.exit_code == 2 and "--bundle" in res.output
    res = runner.invoke(main, ["export", "--plan", str(plan_path), "--out", str(out), "--bundle", "--site", "nowhere"])
    assert res.exit_code == 2 and "nowhere" in res.output
