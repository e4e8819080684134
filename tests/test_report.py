"""Reports: KPI numbers against hand-computed values, CSV/XLSX that Excel users can open, HTML
pages checked in a real headless chromium, and `compare` on two plans.

The fixture week (2024-W10, Monday 2024-03-04) is small enough to count by hand:

  district d1 "Huyện Chư Păh": s1 "Xã Nghĩa Hưng" (2,000 people, vi+jra), s2 "Xã Ia Ka" (1,000, vi)
  district d2 "Huyện Đắk Pơ":  s3 "Phường Tây Sơn" (4,000, vi)
  relays: r1 mandatory 30 min, r2 optional 30 min
  segments: g1 topic 1 vi 5 min (3 plays a week), g2 topic 6 vi 10 min (2), g3 topic 9 jra 5 min (2)
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from scheduler.cli import main
from scheduler.domain import Placement, PlanItem, PlanSite, UnitResult, WeekPlan
from scheduler.export.report import compare, format_compare, kpis, write_report
from scheduler.planfile import read_plan, write_plan

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

SITES = (
    PlanSite("s1", "Xã Nghĩa Hưng", "d1", "Huyện Chư Păh", 2000, ("vi", "jra"), "fm", "rural"),
    PlanSite("s2", "Xã Ia Ka", "d1", "Huyện Chư Păh", 1000, ("vi",), "wired", "rural"),
    PlanSite("s3", "Phường Tây Sơn", "d2", "Huyện Đắk Pơ", 4000, ("vi",), "ip", "urban"),
)
ITEMS = (
    PlanItem("r1", "relay", "Thời sự VOV1 buổi sáng", "VOV1", "vi", 1800, mandatory=True),
    PlanItem("r2", "relay", "Thời sự VTV1", "VTV1", "vi", 1800, mandatory=False),
    PlanItem("g1", "segment", "Mục tiêu cải cách hành chính năm 2024", "TTVHTT", "vi", 300, topic=1, min_plays=3),
    PlanItem("g2", "segment", "Bộ phận một cửa: thủ tục đăng ký đất đai", "TTVHTT", "vi", 600, topic=6,
             min_plays=2),
    PlanItem("g3", "segment", "Chính quyền điện tử (tiếng Jrai)", "TTVHTT", "jra", 300, topic=9, min_plays=2),
)


def _p(site, kind, item, day, start, end, listeners=0.0):
    d = datetime(2024, 3, day)
    h0, m0 = map(int, start.split(":"))
    h1, m1 = map(int, end.split(":"))
    return Placement(site, kind, item, d.replace(hour=h0, minute=m0), d.replace(hour=h1, minute=m1), listeners)


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
BLOCKS = {"d1": 11, "d2": 2}


def make_plan(placements=PLACEMENTS) -> WeekPlan:
    return WeekPlan("2024-W10", "fixture", "/nonexistent", SITES, ITEMS, tuple(placements), UNITS)


@pytest.fixture(scope="module")
def plan() -> WeekPlan:
    return make_plan()


@pytest.fixture(scope="module")
def frames(plan):
    return kpis(plan)


@pytest.fixture(scope="module")
def report_dir(plan, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report(plan, out, lang="vi")
    return out


# --------------------------------------------------------------------------- KPI numbers


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
    assert s1["airtime_day_mean_min"] == 15  # (50 + 25 + 30) / 7
    assert math.isnan(s1["daily_cap_minutes"])  # no dataset: cap unknown
    assert (s1["sessions_day_max"], s1["sessions_day_mean"]) == (2, 0.71)  # 2+2+1 over 7 days
    assert s1["gap_pct"] == 0

    s2 = _row(frames["site"], "site_id", "s2")
    assert (s2["required_plays"], s2["required_plays_met"]) == (5, 3)  # g3 is Jrai: not for s2
    assert s2["par_min_lang_jra"] == 0
    assert (s2["sessions_day_max"], s2["sessions_day_mean"]) == (2, 0.43)  # Mon 2 (30 min gap), Thu 1
    assert s2["mandatory_relays_pct"] == 100

    s3 = _row(frames["site"], "site_id", "s3")
    assert s3["mandatory_relays_due"] == 0 and math.isnan(s3["mandatory_relays_pct"])  # r2 optional
    assert s3["required_met_pct"] == 20
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
    assert prov["province"] == "fixture"
    assert (prov["population"], prov["par_plays"], prov["par_minutes"]) == (7000, 8, 55)
    assert prov["listener_plays"] == 3100
    assert prov["listener_plays_per_1000"] == pytest.approx(442.9)
    assert (prov["required_plays"], prov["required_plays_met"]) == (17, 8)
    assert prov["mandatory_relays_pct"] == 75
    assert prov["topics_covered"] == 3
    assert (prov["par_min_lang_vi"], prov["par_min_lang_jra"]) == (50, 5)
    assert prov["gap_pct"] == 10


def test_labels_in_both_languages(plan):
    vi = kpis(plan, lang="vi")["district"].columns
    en = kpis(plan, lang="en")["district"].columns
    assert "Lượt người nghe dự kiến" in vi and "Phút CCHC – tiếng Jrai" in vi
    assert "Expected listener-plays" in en and "PAR minutes – Jrai" in en


# --------------------------------------------------------------------------- CSV and XLSX


def test_csv_has_bom_and_round_trips_vietnamese(report_dir):
    raw = (report_dir / "kpi_site.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(report_dir / "kpi_site.csv", encoding="utf-8-sig")
    assert list(frame["Đài truyền thanh"]) == ["Xã Ia Ka", "Xã Nghĩa Hưng", "Phường Tây Sơn"]
    assert set(frame["Huyện"]) == {"Huyện Chư Păh", "Huyện Đắk Pơ"}
    text = raw.decode("utf-8-sig")
    for ch in "đươắ":
        assert ch in text.lower()


def test_xlsx_sheets_columns_and_frozen_header(report_dir):
    from openpyxl import load_workbook

    wb = load_workbook(report_dir / "kpi.xlsx")
    assert wb.sheetnames == ["Đài", "Huyện", "Tỉnh"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
        assert ws.column_dimensions["A"].width > 8
    sheets = pd.read_excel(report_dir / "kpi.xlsx", sheet_name=None)
    assert list(sheets["Huyện"]["Huyện"]) == ["Huyện Chư Păh", "Huyện Đắk Pơ"]
    assert {"Lượt phát CCHC", "Khoảng cách tối ưu (%)", "Chủ đề đã phủ (trên 10)"} <= set(sheets["Tỉnh"].columns)
    assert sheets["Tỉnh"]["Lượt phát CCHC"].tolist() == [8]


def test_report_files_are_all_there(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    assert {"kpi_site.csv", "kpi_district.csv", "kpi_province.csv", "kpi.xlsx", "index.html",
            "district_d1.html", "district_d2.html", "listener_plays_by_district.png"} <= names
    index = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="district_d1.html"' in index and 'href="district_d2.html"' in index


def test_html_is_self_contained_and_prints_a4_landscape(report_dir):
    for page in report_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), page.name
        assert not re.search(r"""(src|href)=["'](?!data:|district_|index\.html|#)""", text), page.name
        assert "default-src 'none'" in text
    d1 = (report_dir / "district_d1.html").read_text(encoding="utf-8")
    assert "@page{size:A4 landscape" in d1 and "page-break-before:always" in d1
    assert 'title="Mục tiêu cải cách hành chính năm 2024 — Thứ Hai 04/03 06:30–06:35' in d1


# --------------------------------------------------------------------------- real browser


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-quic", "--disable-extensions", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


@needs_chromium
def test_chromium_renders_every_block(report_dir, tmp_path):
    for did, expected in BLOCKS.items():
        url = (report_dir / f"district_{did}.html").resolve().as_uri()
        run = _chromium(["--dump-dom", url], tmp_path)
        assert run.returncode == 0, run.stderr[-2000:]
        dom = run.stdout
        assert "<section" in dom  # parsed and serialised by the browser
        assert len(re.findall(r'class="block[ "]', dom)) == expected
        assert len(re.findall(r'class="block relay', dom)) == {"d1": 4, "d2": 1}[did]
        assert len(re.findall(r'<section class="site"', dom)) == {"d1": 2, "d2": 1}[did]


@needs_chromium
def test_chromium_screenshot_is_not_blank(report_dir, tmp_path):
    from PIL import Image

    shot = tmp_path / "d1.png"
    url = (report_dir / "district_d1.html").resolve().as_uri()
    run = _chromium([f"--screenshot={shot}", "--window-size=1400,1000", "--hide-scrollbars", url], tmp_path)
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (1400, 1000)
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20  # text, table, coloured blocks: not one flat colour
    # a topic colour of the grid is on screen (g1 = topic 1 = #1f77b4)
    assert any(abs(r - 0x1F) < 8 and abs(g - 0x77) < 8 and abs(b - 0xB4) < 8 for _, (r, g, b) in colours)


@needs_chromium
def test_print_puts_each_site_on_its_own_a4_landscape_page(report_dir, tmp_path):
    pdf = tmp_path / "d1.pdf"
    url = (report_dir / "district_d1.html").resolve().as_uri()
    run = _chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url], tmp_path)
    assert run.returncode == 0 and pdf.exists(), run.stderr[-2000:]
    data = pdf.read_bytes()
    pages = re.findall(rb"/Type\s*/Page\b", data)
    assert len(pages) == 3  # KPI page + one page per site (2 sites)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    width, height = float(box.group(1)), float(box.group(2))
    assert width > height and abs(width - 842) < 3 and abs(height - 595) < 3  # A4 landscape in points


# --------------------------------------------------------------------------- compare


def _plan_b() -> WeekPlan:
    moved = [p for p in PLACEMENTS]
    i = next(i for i, p in enumerate(moved) if p.site_id == "s2" and p.start.day == 7 and p.item_id == "g1")
    moved[i] = _p("s2", "segment", "g1", 7, "08:00", "08:05", 150)
    moved.append(_p("s3", "segment", "g1", 9, "06:00", "06:05", 800))
    return make_plan(moved)


def test_compare_counts_moved_added_removed(plan):
    result = compare(plan, _plan_b())
    assert result["placements"] == {"unchanged": 12, "moved": 1, "added": 1, "removed": 0}
    assert [(s["site_id"], s["changes"]) for s in result["top_sites"]] == [("s2", 1), ("s3", 1)]
    prov = result["province"]["kpis"]
    assert prov["par_plays"] == {"a": 8, "b": 9, "delta": 1}
    assert prov["listener_plays"]["delta"] == 800
    d2 = next(d for d in result["districts"] if d["district_id"] == "d2")
    assert d2["kpis"]["topics_covered"] == {"a": 1, "b": 2, "delta": 1}
    reverse = compare(_plan_b(), plan)
    assert reverse["placements"]["removed"] == 1 and reverse["placements"]["added"] == 0
    assert "1 moved, 1 added, 0 removed" in format_compare(result)


def test_cli_compare_and_report(plan, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_plan(plan, a)
    write_plan(_plan_b(), b)
    assert read_plan(a).item("segment", "g1").min_plays == 3  # min_plays survives plan.json
    runner = CliRunner()
    res = runner.invoke(main, ["compare", str(a), str(b), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["placements"]["moved"] == 1  # warnings go to stderr
    res = runner.invoke(main, ["compare", str(a), str(b)])
    assert res.exit_code == 0 and "PAR plays" in res.output and "Xã Ia Ka" in res.output
    res = runner.invoke(main, ["report", "--plan", str(a), "--out", str(tmp_path / "rep"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rep" / "district_d2.html").exists()
    assert "Expected listener-plays" in (tmp_path / "rep" / "kpi_district.csv").read_text(encoding="utf-8-sig")
    for cmd in ("report", "compare"):
        help_text = runner.invoke(main, [cmd, "--help"]).output
        assert "Example:" in help_text and f"loa {cmd} " in help_text.split("Example:")[1]


# --------------------------------------------------------------------------- with the dataset


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A hand-made plan over the tiny dataset (no solver): VOV1 Mon-Wed, one segment on Monday."""
    dataset_mod = pytest.importorskip("scheduler.dataset")
    root = Path(__file__).parent / "fixtures" / "tiny"
    ds = dataset_mod.load_dataset(root)
    sites = []
    for s in ds.sites:
        d = ds.district_of(s)
        sites.append(PlanSite(s.id, s.name, d.id, d.name, s.population, s.languages, s.technology, s.kind))
    items = tuple(PlanItem(r.id, "relay", r.title, r.source, r.language, r.duration_s, mandatory=r.mandatory)
                  for r in ds.relays) + tuple(
        PlanItem(g.id, "segment", g.title, "", g.language, g.duration_s, topic=g.topic, min_plays=g.min_plays)
        for g in ds.segments)
    placements = []
    for s in ds.sites:
        for day in (4, 5, 6):
            start = datetime(2024, 3, day, 6, 0)
            placements.append(Placement(s.id, "relay", "vov1-0600", start, start.replace(minute=15)))
        seg = ds.segments[0]
        start = datetime(2024, 3, 4, 6, 20)
        placements.append(Placement(s.id, "segment", seg.id, start,
                                    start.replace(minute=20 + seg.duration_min), listeners=10.0))
    plan = WeekPlan("2024-W10", ds.name, str(root), tuple(sites), items, tuple(placements))
    out = tmp_path_factory.mktemp("tiny-report")
    paths = write_report(plan, out, lang="vi", dataset=ds)
    return ds, plan, out, paths


def test_report_with_tiny_dataset_has_heatmaps_and_caps(tiny):
    ds, plan, out, paths = tiny
    frames = kpis(plan, ds)
    site = frames["site"].set_index("site_id")
    assert set(site["daily_cap_minutes"]) <= {120, 150}
    # VOV1 06:00 daily + VTV1 19:00 daily at rural sites, on broadcast days, minus blackouts:
    # urban town airs Mon-Fri, national mourning Fri 08/03 cancels everything, Ia Blang's
    # festival Wed 06:00-12:00 cancels its VOV1
    assert site["mandatory_relays_due"].to_dict() == {"chu-se-tt": 4, "chu-se-ia-blang": 11, "chu-se-ia-hlop": 12}
    assert site.loc["chu-se-ia-hlop", "mandatory_relays_aired"] == 3
    assert site.loc["chu-se-ia-blang", "mandatory_relays_aired"] == 2  # its Wednesday relay was not due
    assert frames["province"]["province"].tolist() == ["Gia Lai"]
    district_page = next(p for p in paths if p.name.startswith("district_"))
    text = district_page.read_text(encoding="utf-8")
    assert text.count('<svg class="heat"') == len(plan.sites)
    assert not re.search(r"https?://", text)
    assert any(p.name.startswith("availability_") and p.suffix == ".png" for p in paths)


@needs_chromium
def test_print_with_heatmaps_and_chart_keeps_one_page_per_site(tiny, tmp_path):
    ds, plan, out, paths = tiny
    pdf = tmp_path / "tiny.pdf"
    page = next(p for p in paths if p.name.startswith("district_"))
    run = _chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.resolve().as_uri()], tmp_path)
    assert run.returncode == 0 and pdf.exists(), run.stderr[-2000:]
    pages = re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())
    assert len(pages) == 1 + len(plan.sites) + 1  # KPIs, one per site, the availability chart


# --------------------------------------------------------------------------- recorded settings


@pytest.fixture(scope="module")
def tiny_base_cap(tmp_path_factory):
    """The tiny dataset without its [area.chu-se] cap, so `--set policy.daily_cap_minutes` reaches every site."""
    root = tmp_path_factory.mktemp("tiny-set") / "tiny"
    shutil.copytree(Path(__file__).parent / "fixtures" / "tiny", root)
    policy = root / "policy.toml"
    text = policy.read_text(encoding="utf-8")
    assert "[area.chu-se]\ndaily_cap_minutes = 120\n" in text
    policy.write_text(text.replace("[area.chu-se]\ndaily_cap_minutes = 120\n", ""), encoding="utf-8")
    return root


def test_plan_dataset_reapplies_recorded_policy_file_then_set_values(tiny_base_cap, tmp_path):
    pytest.importorskip("scheduler.pipeline")
    from scheduler.export.report import plan_dataset
    from scheduler.policy import site_policy

    other = tmp_path / "other-policy.toml"
    other.write_text((tiny_base_cap / "policy.toml").read_text(encoding="utf-8")
                     .replace("daily_cap_minutes = 150", "daily_cap_minutes = 90"), encoding="utf-8")
    plan = WeekPlan("2024-W10", "tiny", str(tiny_base_cap), SITES, ITEMS, ())

    def caps(settings):
        ds = plan_dataset(dataclasses.replace(plan, settings=settings))
        return {site_policy(ds, s).daily_cap_minutes for s in ds.sites}

    assert caps(()) == {150}
    assert caps((("set", "policy.daily_cap_minutes=40"),)) == {40}
    assert caps((("policy", str(other)),)) == {90}
    # as `loa plan` records them: --set values first, the policy file last; the file is applied first
    assert caps((("set", "policy.daily_cap_minutes=40"), ("policy", str(other)))) == {40}


def test_compare_shows_the_cap_each_plan_was_made_with(tiny_base_cap, tmp_path):
    """`loa plan --set policy.daily_cap_minutes=40` → `loa compare` and `loa report` use 40 for that plan."""
    pytest.importorskip("scheduler.pipeline")
    from scheduler.export.report import plan_dataset

    runner = CliRunner()
    plans = {}
    for name, extra in (("base", []), ("cap40", ["--set", "policy.daily_cap_minutes=40"])):
        out = tmp_path / name
        res = runner.invoke(main, ["plan", "--data", str(tiny_base_cap), "--week", "2024-W10", "--site", "chu-se-tt",
                                   "--out", str(out), "--no-export", *extra])
        assert res.exit_code == 0, res.output
        plans[name] = out / "audio_manifests" / "2024-W10" / "plan.json"
    base, cap40 = read_plan(plans["base"]), read_plan(plans["cap40"])
    assert cap40.settings == (("set", "policy.daily_cap_minutes=40"),)

    k40 = kpis(cap40, plan_dataset(cap40))
    assert k40["site"]["daily_cap_minutes"].tolist() == [40]
    assert kpis(base, plan_dataset(base))["site"]["daily_cap_minutes"].tolist() == [150]

    res = runner.invoke(main, ["compare", str(plans["base"]), str(plans["cap40"]), "--json"])
    assert res.exit_code == 0, res.output
    busiest = json.loads(res.stdout)["province"]["kpis"]["airtime_cap_max_pct"]
    assert busiest["b"] == pytest.approx(k40["province"]["airtime_cap_max_pct"].iloc[0])
    # against a cap of 40, not the policy file's 150 (what compare used before)
    from scheduler.dataset import load_dataset

    at_150 = kpis(cap40, load_dataset(tiny_base_cap))["province"]["airtime_cap_max_pct"].iloc[0]
    assert busiest["b"] == pytest.approx(at_150 * 150 / 40, rel=0.01) and busiest["b"] > at_150
    assert busiest["a"] == pytest.approx(kpis(base, load_dataset(tiny_base_cap))["province"]["airtime_cap_max_pct"].iloc[0])
    # the same for `loa report`
    res = runner.invoke(main, ["report", "--plan", str(plans["cap40"]), "--out", str(tmp_path / "rep"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    site_csv = pd.read_csv(tmp_path / "rep" / "kpi_site.csv", encoding="utf-8-sig")
    assert site_csv["Daily cap (min)"].tolist() == [40]


def test_the_same_plan_gives_byte_identical_report_files(plan, report_dir, tmp_path):
    again = tmp_path / "again"
    write_report(plan, again, lang="vi")
    names = sorted(p.name for p in report_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:  # kpi.xlsx included: its zip and core.xml dates come from the plan
        assert (report_dir / name).read_bytes() == (again / name).read_bytes(), name
