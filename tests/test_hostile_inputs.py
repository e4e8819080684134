"""Our catalogue of hostile inputs and faults (issue 13), each as an attacker or a careless user
would try it. Every case asserts the exit code, a message naming the file (or option) and the
field, no traceback, and a previous output folder left byte for byte as it was.
"""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.cli import main
from scheduler.errors import DataError
from scheduler.export import plan_outputs
from scheduler.fsutil import LOCK_NAME, STAGING_NAME, OutputRun, recover
from scheduler.planfile import read_checked_plan, read_plan

from conftest import REPO, TINY

WEEK = "2024-W10"
EXAMPLES = int(os.environ.get("LOA_HYPOTHESIS_EXAMPLES", "50"))


# --------------------------------------------------------------------------- helpers


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file under `out` (lock and staging included) with its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def loa(*args: str) -> tuple[int, str]:
    """Run the CLI in process; (exit code, stdout + stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash is a test failure, never hidden
    return result.exit_code, result.output


def loa_process(*args: str, limit_fsize: int | None = None, as_user: int | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `python -m scheduler.cli` in a fresh process (for rlimits, other users, real races)."""
    def setup() -> None:
        if limit_fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_fsize, limit_fsize))
        if as_user is not None:
            os.setgid(as_user)
            os.setuid(as_user)

    env = dict(os.environ, PYTHONPATH=str(REPO), LOA_CACHE_DIR="off")
    return subprocess.run([sys.executable, "-m", "scheduler.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, preexec_fn=setup, timeout=timeout, cwd=tempfile.gettempdir())


def make_unreadable(path: Path, kind: str) -> None:
    """Put at `path` something no reader may open as a file: it must neither hang nor flood memory."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    elif kind == "link-loop":
        path.symlink_to(path)
    else:
        with open(path, "wb") as fh:
            fh.truncate(33 * 2**20)  # sparse: instant, and over the 32 MB cap of a dataset file


def assert_refused(code: int, output: str, expected_code: int, *names: str) -> None:
    assert code == expected_code, output
    assert "Traceback" not in output
    for name in names:
        assert name in output, f"{name!r} not in {output!r}"


def assert_week_consistent(out: Path, week: str = WEEK) -> None:
    """plan.json and every calendar and manifest of its week come from one run: exporting the
    plan found there again gives exactly the files found there."""
    plan = read_plan(out / "audio_manifests" / week / "plan.json")
    files, _ = plan_outputs(plan, out)
    for path, data in files.items():
        assert path.read_bytes() == data, f"{path} does not belong to the plan next to it"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """An output folder holding a planned and exported week of the tiny dataset."""
    out = tmp_path_factory.mktemp("baseline") / "out"
    code, output = loa("plan", "--data", TINY, "--week", WEEK, "--out", out, "--workers", "1")
    assert code == 0, output
    return out


@pytest.fixture
def previous(baseline, tmp_path) -> tuple[Path, dict[str, bytes]]:
    """A private copy of the baseline outputs and their bytes, to check they are left untouched."""
    out = tmp_path / "out"
    shutil.copytree(baseline, out, symlinks=True)
    return out, snapshot(out)


@pytest.fixture
def data(tmp_path) -> Path:
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest


def plan_file(out: Path) -> Path:
    return out / "audio_manifests" / WEEK / "plan.json"


def hostile_plan(out: Path, tmp_path: Path, edit) -> Path:
    """A copy of the baseline plan.json, outside `out`, edited by `edit(dict)`."""
    raw = json.loads(plan_file(out).read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "hand" / "plan.json"
    path.parent.mkdir(exist_ok=True)
    raw["dataset"]["root"] = os.path.relpath(TINY, path.parent)
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


def _segment(raw: dict) -> dict:
    return next(i for i in raw["items"] if i["kind"] == "segment")


def _segment_index(raw: dict) -> int:
    return next(n for n, i in enumerate(raw["items"]) if i["kind"] == "segment")


def _on_the_relay(raw: dict) -> None:
    relay = next(p for p in raw["placements"] if p["kind"] == "relay" and p["id"] == "vov1-0600")
    seg = _segment(raw)
    raw["placements"].append({**relay, "kind": "segment", "id": seg["id"], "listeners": 1.0, "score": {}})


def _relabel(raw: dict) -> None:
    raw["week"] = "2024-W11"


# --------------------------------------------------------------------------- plan.json is untrusted

PLAN_CASES = {
    "site id climbing out of --out": (lambda r: r["sites"][0].update(id="../../../../x"), ["sites[0].id"]),
    "absolute district id": (lambda r: r["sites"][0].update(district_id="/etc"), ["sites[0].district_id"]),
    "absolute audio path": (lambda r: _segment(r).update(audio="/etc/passwd"), [".audio", "/etc/passwd"]),
    "audio climbing out with ..": (lambda r: _segment(r).update(audio="../../../etc/passwd"), [".audio"]),
    "placement on the mandatory 06:00 relay": (_on_the_relay, ["placements", "no overlap"]),
    "plan relabelled to another week": (_relabel, ["placements", "inside the plan's week"]),
    "week 2024-W99": (lambda r: r.update(week="2024-W99"), ["week"]),
    "week 9999-W52": (lambda r: r.update(week="9999-W52"), ["week", "1900..2999"]),
    "week 0001-W01": (lambda r: r.update(week="0001-W01"), ["week"]),
    "score given as a list": (lambda r: r["placements"][0].update(score=[1, 2]), ["placements[0].score"]),
    "objective infinite": (lambda r: r["units"][0].update(objective=float("inf")), ["units[0].objective"]),
    "objective 1e308 (sums overflow)": (lambda r: r["units"][0].update(objective=1e308), ["units[0].objective"]),
    "placement in year 1": (lambda r: r["placements"][0].update(start="0001-01-01T00:00:00+07:00"),
                            ["placements[0].start"]),
    "bare CR in a site name": (lambda r: r["sites"][0].update(name="Xã\rBEGIN:VEVENT"), ["sites[0].name"]),
    "LF in a district name": (lambda r: r["sites"][0].update(district_name="Huyện\nX-INJECTED:1"),
                              ["sites[0].district_name"]),
    "ESC in an item title": (lambda r: r["items"][0].update(title="Thời sự\x1b[31m"), ["items[0].title"]),
    "newline in an audio file name": (lambda r: _segment(r).update(audio="audio/a\n#EXTINF:1,x.ogg"), [".audio"]),
    "population of thirty 9s": (lambda r: r["sites"][0].update(population=int("9" * 30)), ["sites[0].population"]),
    "unknown key": (lambda r: r.update(extra=1), ["extra"]),
}


@pytest.mark.parametrize("command", ["export", "render"])
@pytest.mark.parametrize("case", sorted(PLAN_CASES))
def test_a_hostile_plan_is_refused_and_changes_nothing(previous, tmp_path, case, command):
    out, before = previous
    edit, names = PLAN_CASES[case]
    path = hostile_plan(out, tmp_path, edit)
    if command == "export":
        code, output = loa("export", "--plan", path, "--out", out)
    else:
        code, output = loa("render", "--plan", path, "--site", "chu-se-tt", "--date", "2024-03-04",
                           "--format", "wav", "--out", out / "sessions")
    assert_refused(code, output, 2, "plan.json", *names)
    assert snapshot(out) == before


def test_audio_linked_out_of_the_dataset_is_refused(previous, tmp_path):
    out, before = previous
    data = tmp_path / "tiny"
    shutil.copytree(TINY, data)
    secret = tmp_path / "secret.ogg"
    shutil.copy(TINY / "audio" / "mot-cua.ogg", secret)  # decodable and with the planned checksum
    (data / "audio" / "mot-cua.ogg").unlink()
    (data / "audio" / "mot-cua.ogg").symlink_to(secret)
    raw = json.loads(plan_file(out).read_text(encoding="utf-8"))
    raw["dataset"]["root"] = str(data)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    code, output = loa("export", "--plan", path, "--out", out)
    assert_refused(code, output, 2, "plan.json", ".audio", "audio/mot-cua.ogg", "symbolic link")
    assert snapshot(out) == before


@pytest.mark.parametrize("content", [b"[" * 100_000, b"\xff\xfe", b"{\"format\": 2, " * 3])
def test_a_mangled_plan_file_is_refused(previous, tmp_path, content):
    out, before = previous
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    code, output = loa("export", "--plan", path, "--out", out)
    assert_refused(code, output, 2, "plan.json", "a UTF-8 JSON plan")
    assert snapshot(out) == before


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "too-big", "link-loop"])
def test_a_plan_path_that_is_no_regular_file_is_refused_without_hanging(previous, tmp_path, kind, monkeypatch):
    out, before = previous
    path = tmp_path / "plan.json"
    if kind != "too-big":
        make_unreadable(path, kind)
    else:
        import scheduler.planfile as planfile

        shutil.copy(plan_file(out), path)
        monkeypatch.setattr(planfile, "MAX_PLAN_BYTES", 1000)
    code, output = loa("export", "--plan", path, "--out", out)
    assert code == 2 and "Traceback" not in output and str(path) in output
    assert snapshot(out) == before


# --------------------------------------------------------------------------- command-line values


@pytest.mark.parametrize("args, names", [
    (["--date", "2024-13-45", "--site", "chu-se-tt"], ["--date", "YYYY-MM-DD"]),
    (["--date", "2024-03-11", "--site", "chu-se-tt"], ["--date", "a day of the plan's week"]),
    (["--date", "2024-03-04", "--site", "nowhere"], ["--site", "nowhere"]),
    (["--date", "2024-03-04", "--site", "../../etc"], ["--site"]),
])
def test_render_bad_date_or_site_is_bad_input(previous, args, names):
    out, before = previous
    code, output = loa("render", "--plan", plan_file(out), *args, "--out", out / "s")
    assert_refused(code, output, 2, *names)
    assert snapshot(out) == before


@pytest.mark.parametrize("week", ["9999-W52", "0001-W01", "2024-W99", "2024-W1x", "１２３４-W10"])
def test_a_week_out_of_range_is_bad_input(previous, week):
    out, before = previous
    code, output = loa("plan", "--data", TINY, "--week", week, "--out", out)
    assert_refused(code, output, 2, "--week", "week")
    assert snapshot(out) == before


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "1e15", "1e12", "-1"])
def test_an_unsafe_weight_is_bad_input(previous, value):
    out, before = previous
    code, output = loa("plan", "--data", TINY, "--week", WEEK, "--out", out, "--set", f"weights.reach={value}")
    assert_refused(code, output, 2, "--set", "weights.reach", "0..10000")
    assert snapshot(out) == before


@pytest.mark.parametrize("value", ["inf", "nan", "1e308", "1e15"])
def test_an_unsafe_weight_in_policy_toml_is_bad_input(previous, data, value):
    out, before = previous
    text = (data / "policy.toml").read_text(encoding="utf-8").replace("reach = 1.0", f"reach = {value}")
    (data / "policy.toml").write_text(text, encoding="utf-8")
    code, output = loa("plan", "--data", data, "--week", WEEK, "--out", out)
    assert_refused(code, output, 2, "policy.toml", "weights.reach")
    assert snapshot(out) == before


def test_out_naming_a_file_is_bad_input(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("mine\n")
    code, output = loa("plan", "--data", TINY, "--week", WEEK, "--out", target)
    assert_refused(code, output, 2, "--out", str(target))
    assert target.read_text() == "mine\n"
    code, output = loa("export", "--plan", tmp_path / "none.json", "--out", target)
    assert code == 2 and "Traceback" not in output and "file.txt" in output


# --------------------------------------------------------------------------- the dataset


def _csv_edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


DATASET_CASES = {
    "CR in a site name": ("sites.csv", "Ia Blang,chu-se-ia-blang", '"Ia\rBlang",chu-se-ia-blang', ["sites.csv:3", "'name'"]),
    "CRLF in a site name": ("sites.csv", "Ia Blang,chu-se-ia-blang", '"Ia\r\nBlang",chu-se-ia-blang',
                            ["sites.csv:3", "'name'"]),
    "LF in a district name": ("areas.csv", "Chư Sê,Huyện", '"Chư\nSê",Huyện', ["areas.csv:3", "'name'"]),
    "ESC in a title": ("segments.csv", "Bộ phận một cửa cấp xã", "Bộ phận\x1b một cửa", ["segments.csv:2", "'title'"]),
    "VT in a title": ("segments.csv", "Bộ phận một cửa cấp xã", "Bộ phận\x0b một cửa", ["segments.csv:2", "'title'"]),
    "DEL in a source": ("segments.csv", "TTVHTT Chư Sê,", "TTVHTT\x7f Chư Sê,", ["segments.csv:2", "'source'"]),
    "newline in an audio file name": ("segments.csv", "audio/mot-cua.ogg", '"audio/mot\ncua.ogg"',
                                      ["segments.csv:2", "'audio'"]),
    "population of thirty 9s": ("sites.csv", ",18000,", "," + "9" * 30 + ",", ["sites.csv:2", "'population'"]),
    "population over the maximum": ("sites.csv", ",18000,", ",10000001,", ["sites.csv:2", "'population'"]),
    "CR in the dataset name": ("dataset.toml", 'name = "', 'name = "\\r', ["dataset.toml:name", "'name'"]),
    "control character in a blackout title": ("blackouts.ics", "SUMMARY:Lễ hội", "SUMMARY:Lễ\\nhội", ["blackouts.ics", "'SUMMARY'"]),
}


@pytest.mark.parametrize("case", sorted(DATASET_CASES))
def test_a_hostile_dataset_is_refused_at_load(previous, data, case):
    out, before = previous
    name, old, new, names = DATASET_CASES[case]
    _csv_edit(data / name, old, new)
    code, output = loa("validate", "--data", data)
    assert_refused(code, output, 2, *names)
    code, output = loa("plan", "--data", data, "--week", WEEK, "--out", out)
    assert_refused(code, output, 2, *names)
    assert snapshot(out) == before


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "too-big", "folder"])
def test_a_dataset_file_that_is_no_regular_file_is_refused(previous, data, kind):
    out, before = previous
    target = data / "sites.csv"
    target.unlink()
    make_unreadable(target, kind)
    started = time.monotonic()
    code, output = loa("plan", "--data", data, "--week", WEEK, "--out", out)
    assert_refused(code, output, 2, "sites.csv", "regular file")
    assert time.monotonic() - started < 30
    assert snapshot(out) == before


def test_a_self_referencing_audio_link_is_named(previous, data):
    out, before = previous
    link = data / "audio" / "mot-cua.ogg"
    link.unlink()
    link.symlink_to(link)
    code, output = loa("plan", "--data", data, "--week", WEEK, "--out", out)
    assert_refused(code, output, 2, "segments.csv:2", "'audio'", "link loop")
    assert snapshot(out) == before


def test_silent_audio_stops_planning_and_changes_nothing(previous, data):
    from pydub import AudioSegment

    out, before = previous
    AudioSegment.silent(duration=2000, frame_rate=16000).export(data / "audio" / "mot-cua.ogg", format="ogg")
    code, output = loa("plan", "--data", data, "--week", WEEK, "--out", out)
    assert_refused(code, output, 2, "segments.csv:2", "'audio'", "every sample is zero")
    assert snapshot(out) == before


def test_audio_silent_since_planning_stops_the_export(previous, tmp_path):
    from pydub import AudioSegment

    out, before = previous
    data = tmp_path / "tiny"
    shutil.copytree(TINY, data)
    AudioSegment.silent(duration=2000, frame_rate=16000).export(data / "audio" / "mot-cua.ogg", format="ogg")
    raw = json.loads(plan_file(out).read_text(encoding="utf-8"))
    raw["dataset"]["root"] = str(data)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    code, output = loa("export", "--plan", path, "--out", out)
    assert_refused(code, output, 4, "mot-cua.ogg", "silent")
    assert snapshot(out) == before


def test_fifty_thousand_bad_rows_stop_at_two_hundred_problems(data):
    rows = "".join(f"bad-{i},X,nowhere,village,fm,-1,x,vi,upland-coffee,,,yes\n" for i in range(50_000))
    (data / "sites.csv").write_text((data / "sites.csv").read_text(encoding="utf-8") + rows, encoding="utf-8")
    code, output = loa("validate", "--data", data)
    assert_refused(code, output, 2, "sites.csv:5", "… and ")
    lines = output.splitlines()
    assert len(lines) <= 203 and "more" in lines[-1]
    assert int(lines[-1].split("and ")[1].split(" more")[0].replace(",", "")) > 100_000


# --------------------------------------------------------------------------- faults during a run


def test_a_full_disk_leaves_the_previous_week(previous):
    out, before = previous
    # (an export of the same plan would write nothing: files whose bytes are unchanged are kept;
    # the per-item calendars are new, so that export must write)
    for args in (["plan", "--data", TINY, "--week", WEEK, "--workers", "1"],
                 ["export", "--plan", plan_file(out), "--detail", "items"]):
        result = loa_process(*args, "--out", out, limit_fsize=4000)
        assert_refused(result.returncode, result.stdout + result.stderr, 4, "File too large")
        assert snapshot(out) == before


def _read_only(folder: Path, on: bool) -> None:
    """A folder nobody may write into: mode 555, and for root (who ignores modes) immutable."""
    if on:
        os.chmod(folder, 0o555)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", str(folder)], check=True)
    if not on:
        os.chmod(folder, 0o755)


@pytest.mark.parametrize("where", [f"audio_manifests/{WEEK}/chu-se-tt", f"calendars/{WEEK}"])
def test_a_read_only_folder_leaves_the_previous_week(previous, where):
    out, before = previous
    folder = out / where
    _read_only(folder, True)
    try:
        code, output = loa("export", "--plan", plan_file(out), "--out", out)
        assert_refused(code, output, 4, where.split("/")[-1], "not writable")
        assert snapshot(out) == before
    finally:
        _read_only(folder, False)


def test_a_link_out_of_the_output_folder_is_refused(previous, tmp_path):
    out, before = previous
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "calendars", elsewhere)
    (out / "calendars").symlink_to(elsewhere)
    before = snapshot(out)
    code, output = loa("export", "--plan", plan_file(out), "--out", out)
    assert_refused(code, output, 4, "calendars", "outside --out")
    assert snapshot(out) == before and snapshot(elsewhere) == snapshot(elsewhere)
    (out / "calendars").unlink()
    shutil.move(elsewhere, out / "calendars")
    (out / "calendars" / WEEK / "chu-se" / "trap").symlink_to("/etc")
    code, output = loa("export", "--plan", plan_file(out), "--out", out)
    assert_refused(code, output, 4, "trap", "symbolic link")


def test_a_second_run_on_the_same_folder_is_stopped(previous):
    out, before = previous
    with OutputRun(out, ()):
        code, output = loa("export", "--plan", plan_file(out), "--out", out)
        assert_refused(code, output, 2, str(out), "another loa run")
        code, output = loa("plan", "--data", TINY, "--week", WEEK, "--out", out)
        assert_refused(code, output, 2, "another loa run")
    assert snapshot(out) == before


def test_two_plans_racing_into_one_folder_never_mix(previous):
    out, _ = previous
    runs = [subprocess.Popen([sys.executable, "-m", "scheduler.cli", "plan", "--data", str(TINY), "--week", WEEK,
                              "--out", str(out), "--workers", "1", *extra],
                             env=dict(os.environ, PYTHONPATH=str(REPO), LOA_CACHE_DIR="off"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for extra in ([], ["--set", "policy.windows.noon="])]
    results = [(r.wait(timeout=120), r.communicate()[1]) for r in runs]
    assert all(code in (0, 2) for code, _ in results) and any(code == 0 for code, _ in results), results
    assert all("another loa run" in err for code, err in results if code == 2)
    assert_week_consistent(out)


def test_stale_temp_files_and_staging_are_cleaned_at_the_next_start(previous):
    out, _ = previous
    tmp_file = out / "calendars" / WEEK / "chu-se" / ".chu-se-tt.ics.abcd1234.tmp"
    tmp_file.write_bytes(b"half")
    unfinished = out / STAGING_NAME / "run-dead" / "new" / "calendars" / WEEK
    unfinished.mkdir(parents=True)
    (unfinished / "x.ics").write_bytes(b"never switched")
    code, output = loa("export", "--plan", plan_file(out), "--out", out)
    assert code == 0, output
    assert not tmp_file.exists() and not (out / STAGING_NAME).exists()
    assert not (out / "calendars" / WEEK / "x.ics").exists()
    assert_week_consistent(out)


class Killed(BaseException):
    """Stands for SIGKILL: nothing in loa (or click) handles it."""


def test_a_run_killed_after_its_journal_is_completed_at_the_next_start(previous, tmp_path, monkeypatch):
    """Killed between the two folder switches (calendars new, manifests still old): the next
    start finishes the switch, so the week is whole again, and new."""
    import scheduler.fsutil as fsutil

    out, before = previous
    code, output = loa("plan", "--data", TINY, "--week", WEEK, "--out", tmp_path / "other", "--workers", "1",
                       "--no-export", "--set", "policy.windows.noon=")
    assert code == 0, output
    changed = plan_file(tmp_path / "other")
    real, calls = os.rename, []

    def dying_rename(src, dst):
        calls.append(dst)
        if len(calls) == 3:  # calendars switched (2 renames), manifests not yet
            raise Killed()
        return real(src, dst)

    monkeypatch.setattr(fsutil.os, "rename", dying_rename)
    with pytest.raises(Killed):
        CliRunner().invoke(main, ["export", "--plan", str(changed), "--out", str(out)], catch_exceptions=False)
    monkeypatch.setattr(fsutil.os, "rename", real)
    stages = list((out / STAGING_NAME).iterdir())
    assert len(stages) == 1 and (stages[0] / "commit.json").is_file()
    assert recover(out) == [f"completed the interrupted run {stages[0].name}"]
    assert not any((out / STAGING_NAME).iterdir())
    assert snapshot(out) != before
    files, _ = plan_outputs(read_plan(changed), out)
    assert all(path.read_bytes() == data for path, data in files.items())


def _child_plan(out: Path, extra: list[str]) -> None:
    """In a forked child: run `loa plan` and leave (never return into pytest)."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        main(["plan", "--data", str(TINY), "--week", WEEK, "--out", str(out), "--workers", "1",
              "--site", "chu-se-ia-blang", *extra], standalone_mode=False)
    except BaseException:
        os._exit(1)
    os._exit(0)


def test_sigkill_at_random_moments_never_leaves_a_mixed_week(previous):
    """20 `loa plan` runs (one sync group of two sites, to stay fast), two different plans in turn,
    each SIGKILLed at a random moment of its run (loading, solving, staging or switching)."""
    out, _ = previous
    settings_b = ["--set", "policy.windows.noon="]
    plans = []
    for extra in ([], settings_b):  # the two plans differ (else a mix could not be seen)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child_plan(out, extra)
        os.waitpid(pid, 0)
        duration = time.monotonic() - started
        plans.append({(p.site_id, p.item_id, p.start) for p in read_plan(plan_file(out)).placements})
    assert plans[0] != plans[1]
    rng = random.Random(13)
    killed = 0
    for n in range(20):
        pid = os.fork()
        if pid == 0:
            _child_plan(out, settings_b if n % 2 else [])
        time.sleep(rng.uniform(0, duration * 1.2))
        try:
            os.killpg(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        with OutputRun(out, ()):  # the next start: recovery under the lock
            pass
        assert not (out / STAGING_NAME).exists()
        assert_week_consistent(out)
    assert killed >= 10


# --------------------------------------------------------------------------- fuzzing


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            yield from _paths(v, prefix + (i,))


@pytest.fixture(scope="module")
def plan_raw(baseline) -> dict:
    return json.loads(plan_file(baseline).read_text(encoding="utf-8"))


@settings(max_examples=EXAMPLES * 4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_plan_files_load_or_raise_data_error(plan_raw, tmp_path, data):
    raw = json.loads(json.dumps(plan_raw))
    paths = [p for p in _paths(raw) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths))
        node = raw
        for key in where[:-1]:  # an earlier edit may have replaced part of the path
            if isinstance(node, dict) and key in node or isinstance(node, list) and isinstance(key, int) \
                    and key < len(node):
                node = node[key]
            else:
                break
        else:
            last = where[-1]
            if isinstance(node, dict) or isinstance(node, list) and isinstance(last, int) and last < len(node):
                node[last] = data.draw(_json_value)
    path = tmp_path / "fuzz" / "plan.json"
    path.parent.mkdir(exist_ok=True)
    raw.get("dataset", {}).update(root=str(TINY)) if isinstance(raw.get("dataset"), dict) else None
    path.write_text(json.dumps(raw), encoding="utf-8")
    try:
        read_checked_plan(path)
    except DataError as exc:
        assert "plan.json" in str(exc)


_cell = st.one_of(st.text(max_size=10),
                  st.sampled_from(["", "vi", "chu-se", "upland-coffee", "rural", "fm", "yes", "1e308", "nan",
                                   "9" * 30, "\r", "\n", "\x1b", "\x7f", '"', "\u2028"]))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["sites.csv", "areas.csv", "segments.csv", "relays.csv"]),
       rows=st.lists(st.lists(_cell, min_size=1, max_size=14), min_size=1, max_size=4))
def test_fuzzed_dataset_rows_load_or_raise_data_error(tmp_path_factory, name, rows):
    import csv
    import io

    from scheduler.dataset import load_dataset

    data = tmp_path_factory.mktemp("fuzz") / "tiny"
    shutil.copytree(TINY, data)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    with open(data / name, "a", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())
    try:
        load_dataset(data)
    except DataError as exc:
        assert name in str(exc) or "problem" in str(exc)


# --------------------------------------------------------------------------- every control character

CONTROLS = [chr(c) for c in [*range(1, 32), 127]]  # NUL is refused for the whole file (below)


def test_every_ascii_control_character_is_refused_in_names_titles_and_audio_names(data):
    import csv
    import io

    from scheduler.dataset import load_dataset

    def rows(make) -> str:
        buf = io.StringIO()
        csv.writer(buf).writerows(make(n, c) for n, c in enumerate(CONTROLS))  # quotes CR and LF cells
        return buf.getvalue()

    with open(data / "sites.csv", "a", encoding="utf-8", newline="") as fh:
        fh.write(rows(lambda n, c: [f"ctl-{n}", f"Trạm{c}x", "chu-se-tt", "urban", "ip", "100", "test", "vi",
                                    "urban-ward", "", "", "yes"]))
    with open(data / "segments.csv", "a", encoding="utf-8", newline="") as fh:
        fh.write(rows(lambda n, c: [f"ctl-{n}", f"Tin{c}x", "5", "vi", f"audio/a{c}b.ogg", "1", "2", "3", "", "",
                                    "", "", "src", ""]))
    with pytest.raises(DataError) as err:
        load_dataset(data)
    found = {(p.file, p.field) for p in err.value.problems}
    per_field = {key: sum(1 for p in err.value.problems if (p.file, p.field) == key) for key in found}
    assert per_field == {("sites.csv", "name"): len(CONTROLS), ("segments.csv", "title"): len(CONTROLS),
                         ("segments.csv", "audio"): len(CONTROLS)}
    assert all(isinstance(p.line, int) and p.line > 1 and "control characters" in p.expected
               for p in err.value.problems)


def test_a_nul_byte_refuses_the_file_at_its_line(data):
    from scheduler.dataset import load_dataset

    _csv_edit(data / "sites.csv", "Ia Blang", "Ia\x00Blang")
    with pytest.raises(DataError, match=r"sites.csv:3: text without NUL bytes"):
        load_dataset(data)


@pytest.mark.parametrize("char", CONTROLS + ["\x00", "\x85", "\u2028", "\u2029"])
def test_every_control_character_in_a_plan_file_is_refused(plan_raw, tmp_path, char):
    raw = json.loads(json.dumps(plan_raw))
    raw["sites"][0]["name"] += char
    raw["items"][0]["title"] = char + raw["items"][0]["title"]
    seg = _segment_index(raw)
    raw["items"][seg]["audio"] = f"audio/x{char}y.ogg"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_plan(path)
    fields = {p.field for p in err.value.problems}
    assert {"sites[0].name", "items[0].title", f"items[{seg}].audio"} <= fields


def test_names_with_every_other_special_character_reach_strict_calendars_and_playlists(tmp_path):
    """What is allowed (quotes, commas, semicolons, backslashes, colons, Vietnamese) is escaped:
    the strict RFC 5545 parser reads every calendar back, names intact, and each playlist line is a
    comment, an #EXTINF or a path."""
    from ical.calendar_stream import IcsCalendarStream

    data = tmp_path / "tiny"
    shutil.copytree(TINY, data)
    odd = 'Xã "Ia; Blang", A\\B: BEGIN:VEVENT ừ'
    _csv_edit(data / "sites.csv", "Ia Blang,chu-se-ia-blang", f'"{odd.replace(chr(34), chr(34) * 2)}",chu-se-ia-blang')
    _csv_edit(data / "segments.csv", "Bộ phận một cửa cấp xã", "\"Một cửa; hỏi\\đáp, \"\"ngắn\"\"\"")
    out = tmp_path / "out"
    code, output = loa("plan", "--data", data, "--week", WEEK, "--out", out, "--workers", "1")
    assert code == 0, output
    for ics in (out / "calendars" / WEEK).rglob("*.ics"):
        cal = IcsCalendarStream.calendar_from_ics(ics.read_text(encoding="utf-8"))
        assert cal.events
    site = IcsCalendarStream.calendar_from_ics(
        (out / "calendars" / WEEK / "chu-se" / "chu-se-ia-blang.ics").read_text(encoding="utf-8"))
    assert {e.location for e in site.events} == {odd}
    # calendars are per session: the item's title is a line of its session's description
    assert any('Một cửa; hỏi\\đáp, "ngắn"' in (e.description or "") for e in site.events)
    for m3u in (out / "audio_manifests" / WEEK).rglob("*.m3u8"):
        for line in m3u.read_text(encoding="utf-8").splitlines():
            assert line.startswith("#") or line.endswith(".ogg") or "://" in line, line


def test_a_model_the_solver_calls_invalid_is_a_bug_to_report(previous, monkeypatch):
    """Never "raise the time budget": MODEL_INVALID cannot come from bounded data, so it is a bug."""
    import scheduler.solver.run as run
    from scheduler.domain import SolveStatus

    out, before = previous
    monkeypatch.setenv("LOA_CACHE_DIR", "off")  # a cached solution would never reach the solver
    monkeypatch.setattr(run, "solve_problem", lambda problem: run.UnitSolution(
        problem.unit, SolveStatus.MODEL_INVALID, 0.0, 0.0, (), ("invalid",), {}))
    code, output = loa("plan", "--data", TINY, "--week", WEEK, "--out", out, "--workers", "1")
    assert_refused(code, output, 1, "MODEL_INVALID", "please report")
    assert "time budget" not in output and "time_budget" not in output
    assert snapshot(out) == before
