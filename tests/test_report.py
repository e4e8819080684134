"""Report files made from plan.json alone: CSV/XLSX that Excel users can open, HTML pages that
escape what the plan file says and render in a real headless chromium, byte-identical reruns.

The plan: the tiny dataset plus a second district (Krông Pa, commune Ia RMok), planned by the
real planner for 2024-W10, written to plan.json, dataset folder deleted, plan read back.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import TINY
from scheduler.cli import main
from scheduler.dataset import load_dataset
from scheduler.errors import ExportError
from scheduler.export.report import default_chart_site, districts_of, write_report
from scheduler.planfile import read_plan, write_plan
from scheduler.solver.run import plan_week

WEEK = "2024-W10"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
KRONG_PA_AREAS = ("krong-pa,Krông Pa,Huyện,gia-lai,637,13.2,108.6,GSO\n"
                  "krong-pa-ia-rmok,Ia RMok,Xã,krong-pa,24061,,,GSO\n")
KRONG_PA_SITE = "krong-pa-ia-rmok,Ia RMok,krong-pa-ia-rmok,rural,wired,5000,test value,vi,upland-coffee,,,yes\n"


def _plan_file(data: Path, out: Path) -> Path:
    """Plan the week of the dataset at `data`, write plan.json into `out`, delete the dataset."""
    path = write_plan(plan_week(load_dataset(data), WEEK, workers=1), out / "plan.json")
    shutil.rmtree(data)
    return path


@pytest.fixture(scope="module")
def plan_path(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data") / "tiny"
    shutil.copytree(TINY, data)
    with (data / "areas.csv").open("a", encoding="utf-8") as fh:
        fh.write(KRONG_PA_AREAS)
    with (data / "sites.csv").open("a", encoding="utf-8") as fh:
        fh.write(KRONG_PA_SITE)
    return _plan_file(data, tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def plan(plan_path):
    return read_plan(plan_path)


@pytest.fixture(scope="module")
def report_dir(plan, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report(plan, out, lang="vi")
    return out


def _placements(plan, district_id: str, kind: str | None = None) -> list:
    sites = {s.id for s in plan.sites if s.district_id == district_id}
    return [p for p in plan.placements if p.site_id in sites and kind in (None, p.kind)]


# --------------------------------------------------------------------------- files


def test_report_files_are_all_there(plan, report_dir):
    assert districts_of(plan) == [("chu-se", "Chư Sê"), ("krong-pa", "Krông Pa")]
    names = {p.name for p in report_dir.iterdir()}
    assert names == {"kpi_site.csv", "kpi_district.csv", "kpi_province.csv", "kpi_topic.csv", "kpi_segment.csv",
                     "kpi_relay.csv", "kpi_technical.csv", "kpi.xlsx", "index.html",
                     "district_chu-se.html", "district_krong-pa.html", "listener_plays_by_district.png",
                     f"availability_{default_chart_site(plan)}.png"}
    index = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="district_chu-se.html"' in index and 'href="district_krong-pa.html"' in index


def test_report_from_plan_json_after_the_dataset_folder_is_deleted(tiny_copy, tmp_path):
    """Before: without its dataset a report showed 0 required plays and no heatmaps."""
    plan = read_plan(_plan_file(tiny_copy, tmp_path))
    assert not tiny_copy.exists()
    paths = write_report(plan, tmp_path / "report", lang="en")
    site = pd.read_csv(tmp_path / "report" / "kpi_site.csv", encoding="utf-8-sig")
    assert (site["Required plays"] > 0).all() and (site["Required plays met (%)"] == 100).all()
    assert set(site["Daily cap (min)"]) == {120}
    page = (tmp_path / "report" / "district_chu-se.html").read_text(encoding="utf-8")
    assert page.count('<svg class="heat"') == len(plan.sites) and "heatmap skipped" not in page
    assert any(p.name.startswith("availability_") for p in paths)


def test_csv_has_bom_and_round_trips_vietnamese(report_dir):
    raw = (report_dir / "kpi_site.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(report_dir / "kpi_site.csv", encoding="utf-8-sig")
    assert list(frame["Đài truyền thanh"]) == ["Ia Blang", "Ia Hlốp", "Thị trấn Chư Sê", "Ia RMok"]
    # the level is named by the data's own kind of area, never by the code
    assert list(frame["Huyện"]) == ["Chư Sê"] * 3 + ["Krông Pa"]
    assert list(frame["Loại đơn vị"]) == ["Huyện"] * 4
    assert "Phút CCHC – tiếng Gia Rai" in frame.columns
    text = raw.decode("utf-8-sig")
    for ch in "ốôịấ":
        assert ch in text


def test_xlsx_sheets_columns_and_frozen_header(plan, report_dir):
    from openpyxl import load_workbook

    wb = load_workbook(report_dir / "kpi.xlsx")
    assert wb.sheetnames == ["Đài", "Huyện", "Tỉnh", "Nội dung", "Bài phát", "Tiếp sóng", "Kỹ thuật"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
        assert ws.column_dimensions["A"].width > 8
    sheets = pd.read_excel(report_dir / "kpi.xlsx", sheet_name=None)
    assert list(sheets["Huyện"]["Huyện"]) == ["Chư Sê", "Krông Pa"]
    assert {"Lượt phát CCHC", "Số nội dung (mục II) đã phát, trên 10",
            "Số người nghe ít nhất 1 lần (ước tính)"} <= set(sheets["Tỉnh"].columns)
    # the solver's gap is for planners: its own sheet, not the headline tables
    for sheet in ("Đài", "Huyện", "Tỉnh"):
        assert "Khoảng cách tối ưu (%)" not in sheets[sheet].columns
    assert list(sheets["Kỹ thuật"]["Huyện"]) == ["Chư Sê", "Krông Pa"]
    assert "Khoảng cách tối ưu (%)" in sheets["Kỹ thuật"].columns
    assert list(sheets["Nội dung"]["Mục"]) == [f"II.{n}" for n in range(1, 11)]
    assert set(sheets["Tiếp sóng"]["Nguồn"]) == {"VOV1", "VOV4", "VTV1"}  # the relays of tests/fixtures/tiny
    assert sheets["Tỉnh"]["Lượt phát CCHC"].tolist() == [sum(p.kind == "segment" for p in plan.placements)]
    assert sheets["Tỉnh"]["Tỉnh"].tolist() == ["Gia Lai"]


def test_the_same_plan_gives_byte_identical_report_files(plan, report_dir, tmp_path):
    write_report(plan, tmp_path, lang="vi")
    names = sorted(p.name for p in report_dir.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:  # kpi.xlsx included: its zip and core.xml dates come from the plan
        assert (report_dir / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_english_report_and_chosen_chart_site(plan, tmp_path):
    done = []
    write_report(plan, tmp_path, lang="en", chart_site="krong-pa-ia-rmok", on_district=done.append)
    assert done == ["chu-se", "krong-pa"]
    assert (tmp_path / "availability_krong-pa-ia-rmok.png").exists()
    krong_pa = (tmp_path / "district_krong-pa.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in krong_pa and "Weekly schedule" in krong_pa and "Monday 04/03" in krong_pa
    assert 'class="charts"' in krong_pa
    assert 'class="charts"' not in (tmp_path / "district_chu-se.html").read_text(encoding="utf-8")
    assert "Expected listener-plays" in (tmp_path / "kpi_district.csv").read_text(encoding="utf-8-sig")
    with pytest.raises(ExportError, match="nowhere"):
        write_report(plan, tmp_path, chart_site="nowhere")


# --------------------------------------------------------------------------- HTML


def test_index_has_topics_relays_and_a_technical_section_last(plan, report_dir):
    index = (report_dir / "index.html").read_text(encoding="utf-8")
    assert "Báo cáo tuyên truyền CCHC — Tỉnh Gia Lai — Tuần 10 (04–10/3/2024)" in index  # the root's kind
    topics, relays, technical = (index.index(t) for t in (
        "Theo nội dung tuyên truyền", "Tiếp sóng theo nguồn", "Thông tin kỹ thuật (cho người lập kế hoạch)"))
    assert topics < relays < technical
    assert index.count("Khoảng cách tối ưu (%)") == 1 and index.index("Khoảng cách tối ưu (%)") > technical
    assert "II.9" in index and "Địa chỉ, đường dây nóng" in index
    district = (report_dir / "district_chu-se.html").read_text(encoding="utf-8")
    assert "Khoảng cách tối ưu" not in district and "Số người nghe ít nhất 1 lần" in district
    assert "Tuần 10 (04–10/3/2024)" in district


def test_html_is_self_contained_and_prints_a4_landscape(plan, report_dir):
    for page in report_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), page.name
        assert not re.search(r"""(src|href)=["'](?!data:|district_|index\.html|#)""", text), page.name
        assert "default-src 'none'" in text
    page = (report_dir / "district_chu-se.html").read_text(encoding="utf-8")
    assert "@page{size:A4 landscape" in page and "page-break-before:always" in page
    p = next(p for p in plan.placements if p.site_id == "chu-se-tt" and p.kind == "segment")
    title = plan.item("segment", p.item_id).title
    weekday = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")[p.start.weekday()]
    assert f'title="{title} — {weekday} {p.start:%d/%m %H:%M}–{p.end:%H:%M}' in page
    assert page.count('<svg class="heat"') == 3


def test_names_from_the_plan_file_are_escaped(plan, tmp_path):
    """A plan file is untrusted: a name or title with markup must not become markup."""
    evil = '"><script>alert(1)</script>'
    hostile = dataclasses.replace(
        plan, province=evil,
        sites=tuple(dataclasses.replace(s, name=evil + s.name, district_name=evil) for s in plan.sites),
        items=tuple(dataclasses.replace(i, title=evil + i.title, source=evil) for i in plan.items))
    hostile = read_plan(write_plan(hostile, tmp_path / "plan.json"))
    write_report(hostile, tmp_path / "report", lang="vi")
    for page in (tmp_path / "report").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text, page.name
        assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text, page.name
    csv = (tmp_path / "report" / "kpi_site.csv").read_text(encoding="utf-8-sig")
    assert evil.replace('"', '""') in csv  # CSV keeps the text as it is


# --------------------------------------------------------------------------- real browser


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-quic", "--disable-extensions", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


@needs_chromium
def test_chromium_renders_every_block(plan, report_dir, tmp_path):
    for did, _ in districts_of(plan):
        url = (report_dir / f"district_{did}.html").resolve().as_uri()
        run = _chromium(["--dump-dom", url], tmp_path)
        assert run.returncode == 0, run.stderr[-2000:]
        dom = run.stdout
        assert len(re.findall(r'class="block[ "]', dom)) == len(_placements(plan, did))
        assert len(re.findall(r'class="block relay', dom)) == len(_placements(plan, did, "relay"))
        sites = sum(s.district_id == did for s in plan.sites)
        assert len(re.findall(r'<section class="site"', dom)) == sites
        assert len(re.findall(r'<rect class="mark ', dom)) == len(_placements(plan, did))


@needs_chromium
def test_chromium_screenshot_is_not_blank(plan, report_dir, tmp_path):
    from PIL import Image

    shot = tmp_path / "chu-se.png"
    url = (report_dir / "district_chu-se.html").resolve().as_uri()
    run = _chromium([f"--screenshot={shot}", "--window-size=1400,1000", "--hide-scrollbars", url], tmp_path)
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (1400, 1000)
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20  # text, table, coloured blocks: not one flat colour
    # the header colour of the KPI table is on screen (#1f4e79)
    assert any(abs(r - 0x1F) < 8 and abs(g - 0x4E) < 8 and abs(b - 0x79) < 8 for _, (r, g, b) in colours)


@needs_chromium
def test_print_puts_each_site_on_its_own_a4_landscape_page(plan, report_dir, tmp_path):
    chart_district = plan.site(default_chart_site(plan)).district_id
    for did, _ in districts_of(plan):
        pdf = tmp_path / f"{did}.pdf"
        url = (report_dir / f"district_{did}.html").resolve().as_uri()
        run = _chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url], tmp_path)
        assert run.returncode == 0 and pdf.exists(), run.stderr[-2000:]
        data = pdf.read_bytes()
        sites = sum(s.district_id == did for s in plan.sites)
        # the KPI page, one page per site, the availability chart where its site is
        assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1 + sites + (did == chart_district), did
        box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
        width, height = float(box.group(1)), float(box.group(2))
        assert width > height and abs(width - 842) < 3 and abs(height - 595) < 3  # A4 landscape in points


# --------------------------------------------------------------------------- boundaries and command line


def test_reports_never_load_the_planner_or_the_dataset_loader():
    code = ("import sys, scheduler.export.charts\n"
            "assert 'scheduler.export.report' not in sys.modules  # charts stands alone\n"
            "import scheduler.export, scheduler.export.report, scheduler.export.compare\n"
            "bad = [m for m in sys.modules if m.startswith(('ortools', 'scheduler.solver', 'scheduler.pipeline',"
            " 'scheduler.dataset', 'scheduler.policy'))]\n"
            "assert not bad, bad\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_cli_report_needs_only_the_plan_file(plan_path, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["report", "--plan", str(plan_path), "--out", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "warning" not in res.output.lower()
    assert (tmp_path / "district_krong-pa.html").exists()
    assert "Expected listener-plays" in (tmp_path / "kpi_district.csv").read_text(encoding="utf-8-sig")
    help_text = runner.invoke(main, ["report", "--help"]).output
    assert "Example:" in help_text and "loa report " in help_text.split("Example:")[1]
