"""The printed week: a "Lịch phát sóng" A4 page per commune station and a summary page per district,
as HTML and as PDF printed by a real headless Chromium, read back with poppler's pdfinfo/pdftotext."""
from __future__ import annotations

import dataclasses
import html as html_lib
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import BUNDLED
from export_helpers import DISTRICT, build_plan, valid_plan_file
from scheduler.cli import main
from scheduler.dataset import load_dataset
from scheduler.export.kpis import kpis
from scheduler.export.printable import district_summary, print_files, site_schedule, write_print
from scheduler.planfile import read_plan, write_plan
from scheduler.solver.run import plan_week

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("print")
    plan, _, _ = build_plan(tmp)
    return plan, valid_plan_file(plan, tmp / "plans" / "plan.json")  # the CLI re-verifies plans


@pytest.fixture(scope="module")
def chu_se(tmp_path_factory):
    """The bundled district of Chư Sê planned by the real planner for 2024-W10 (15 sites)."""
    ds = load_dataset(BUNDLED)
    ids = [s.id for s in ds.sites if ds.district_of(s).id == "chu-se"]
    plan = plan_week(ds, "2024-W10", site_ids=ids, workers=2)
    return read_plan(write_plan(plan, tmp_path_factory.mktemp("chu-se") / "plan.json"))


def _pdf_pages(path: Path) -> tuple[int, str]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return pages, re.search(r"^Page size:\s+(.*)$", info, re.M).group(1)


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _rows(html: str) -> list[str]:
    """The text of each table row of the day grid, tags stripped."""
    body = html.split('<table class="grid schedule">', 1)[1].split("</table>", 1)[0]
    return [html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip())
            for row in re.findall(r"<tr.*?</tr>", body, re.S)]


def test_the_page_has_the_motto_the_unit_the_week_and_a_signature_block(small):
    plan, _ = small
    html = site_schedule(plan, "ia-ka")
    assert unicodedata.is_normalized("NFC", html) and unicodedata.is_normalized("NFC", district_summary(plan, DISTRICT))
    for needle in (*MOTTO, "UBND XÃ IA KA", "ĐÀI TRUYỀN THANH", "LỊCH PHÁT SÓNG", "Tuần 10 (04–10/3/2024)",
                   "Xã Ia Ka, ngày ...... tháng ...... năm 2024", "NGƯỜI PHỤ TRÁCH", "(Ký, ghi rõ họ tên)"):
        assert needle in html, needle
    rows = _rows(html)
    assert rows[0] == "Ngày Buổi Giờ Nội dung Nguồn Thời lượng"
    # Monday: the morning relay, then its PAR items as one row, then the evening
    assert rows[1] == "Thứ Hai 04/03 Sáng 06:00–06:30 Tiếp sóng trực tiếp Thời sự sáng VOV1 " \
                      "VOV1, luồng https://stream.example.vn/vov1.m3u8 30'"
    assert rows[2] == "06:30–06:36 2 tin CCHC: bài 1, 2 Tệp ghi âm 0'08\""
    assert rows[3].startswith("Chiều 18:00–18:20 Tiếp sóng trực tiếp Thời sự Gia Lai")


def test_relays_are_marked_and_a_late_relay_is_a_recording_with_its_recording_row(small):
    plan, _ = small
    html = site_schedule(plan, "ia-ka")
    # VOV1 every day and the provincial news live on six days; on Thursday it is a recording
    assert html.count('<tr class="relay') == 7 + 6
    assert html.count('<tr class="recorded') == 1 and html.count('<tr class="record"') == 1
    text = "\n".join(_rows(html))
    assert "18:00–18:20 Ghi âm Thời sự Gia Lai — Đài PT-TH tỉnh để phát lại lúc 18:05 Đài PT-TH Gia Lai, máy thu 20'" in text
    assert "18:05–18:25 Phát lại bản ghi Thời sự Gia Lai — Đài PT-TH tỉnh (ghi lúc 18:00) Đài PT-TH Gia Lai, bản ghi 20'" in text
    # the week's PAR items, numbered by first airing, with their content area (section II)
    legend = html.split('<table class="grid legend">', 1)[1]
    assert re.search(r"<td class=\"c\">1</td><td>Dịch vụ công trực tuyến: hướng dẫn nộp hồ sơ ở nhà</td>"
                     r"<td class=\"c\">II.3</td>", legend)


def test_names_from_the_plan_file_are_escaped_on_printed_pages(small, tmp_path):
    plan, _ = small
    evil = '<script>alert(1)</script>'
    hostile = dataclasses.replace(plan, sites=tuple(dataclasses.replace(s, name=evil + s.name, district_name=evil)
                                                    for s in plan.sites),
                                  items=tuple(dataclasses.replace(i, title=evil + i.title) for i in plan.items))
    for html in (site_schedule(hostile, "ia-ka"), district_summary(hostile, DISTRICT)):
        assert evil not in html and "&lt;script&gt;" in html
        assert html.count("<script>") == 1  # the page's own one-page fit, allowed by its hash only
        assert "script-src 'sha256-" in html and "default-src 'none'" in html


def test_pdfs_are_one_a4_portrait_page_each_and_byte_identical_on_rerun(small, tmp_path):
    plan, _ = small
    first = print_files(plan)
    assert sorted(p.as_posix() for p in first) == sorted([
        f"{DISTRICT}/lich-phat-song_ia-ka_2024-W10.html", f"{DISTRICT}/lich-phat-song_ia-ka_2024-W10.pdf",
        f"{DISTRICT}/lich-phat-song_nghia-hung_2024-W10.html", f"{DISTRICT}/lich-phat-song_nghia-hung_2024-W10.pdf",
        f"tong-hop_{DISTRICT}_2024-W10.html", f"tong-hop_{DISTRICT}_2024-W10.pdf"])
    assert print_files(plan) == first  # Chromium's clock is replaced by the plan's date
    for rel, data in first.items():
        if rel.suffix != ".pdf":
            continue
        path = tmp_path / rel.name
        path.write_bytes(data)
        pages, size = _pdf_pages(path)
        width, height = map(float, re.match(r"([\d.]+) x ([\d.]+) pts \(A4\)", size).groups())
        assert pages == 1 and width < height, (rel, size)  # one A4 portrait page
        assert b"/CreationDate (D:20240304000000+07'00')" in data
        text = _pdf_text(path)
        for needle in MOTTO:
            assert needle in text, (rel, needle)
    text = _pdf_text(tmp_path / "lich-phat-song_ia-ka_2024-W10.pdf")
    for needle in ("LỊCH PHÁT SÓNG", "Tiếp sóng trực tiếp Thời sự sáng VOV1", "Phát lại bản ghi", "NGƯỜI PHỤ TRÁCH"):
        assert needle in text, needle


def test_the_busiest_commune_of_chu_se_still_prints_on_one_page(chu_se, tmp_path):
    from scheduler.export.printable import chromium

    rows = {s.id: len(_rows(site_schedule(chu_se, s.id))) for s in chu_se.sites}
    busiest = max(rows, key=lambda sid: (rows[sid], sid))
    # a commune that plays a recorded relay this week (which one depends on the planner's choices)
    recorded = min(s.id for s in chu_se.sites if "Phát lại bản ghi" in site_schedule(chu_se, s.id))
    chosen = sorted({busiest, "chu-se-ia-blang", recorded})
    paths = write_print(chu_se, tmp_path, site_ids=chosen)
    # a real week is taller than the page: the page's script shrank it (Chromium ran it)
    page = next(p for p in paths if p.name == f"lich-phat-song_{busiest}_2024-W10.html")
    dom = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=60).stdout
    zoom = float(re.search(r'id="sheet"[^>]*style="zoom: ([\d.]+);"', dom).group(1))
    assert 0.5 < zoom < 1, zoom
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    assert len(pdfs) == len(chosen) + 1  # the sites and the district summary
    for pdf in pdfs:
        assert _pdf_pages(pdf)[0] == 1, pdf.name
    text = _pdf_text(tmp_path / "chu-se" / "lich-phat-song_chu-se-ia-blang_2024-W10.pdf")
    assert "UBND XÃ IA BLANG" in text and "Tuần 10 (04–10/3/2024)" in text
    assert "Huyện Chư Sê" in text  # the reporting unit, named by its kind in the data
    text = _pdf_text(tmp_path / "chu-se" / f"lich-phat-song_{recorded}_2024-W10.pdf")
    assert "Phát lại bản ghi Thời sự Gia Lai" in text and "Ghi âm Thời sự Gia Lai" in text


def test_district_summary_adds_up_to_the_district_kpis(chu_se, tmp_path):
    html = district_summary(chu_se, "chu-se")
    (total,) = kpis(chu_se)["district"].query("district_id == 'chu-se'").to_dict("records")
    body = html.split('<table class="grid summary">', 1)[1].split("</table>", 1)[0]
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in re.findall(r"<tr.*?</tr>", body, re.S)]
    assert len(lines) == 1 + 15 + 1  # header, the 15 communes, the total
    assert lines[-1].startswith(f"Tổng cộng (15 đài) {total['population']:,}".replace(",", "."))
    assert "HUYỆN CHƯ SÊ" in html and "TỈNH GIA LAI" in html  # the levels' kinds as the data writes them
    assert f"{total['par_plays']:,}".replace(",", ".") in lines[-1]
    assert f"{total['mandatory_relays_aired']}/{total['mandatory_relays_due']}" in lines[-1]
    for needle in ("BÁO CÁO LỊCH PHÁT SÓNG", "CHƯ SÊ", "Tiếp sóng theo nguồn", "VTV1", "NGƯỜI LẬP BIỂU",
                   "giả định mỗi lượt phát được nghe độc lập"):
        assert needle in html, needle


def test_cli_print_chooses_sites_and_refuses_unknown_ones(small, tmp_path):
    _, plan_path = small
    runner = CliRunner()
    res = runner.invoke(main, ["print", "--plan", str(plan_path), "--out", str(tmp_path), "--site", "ia-ka",
                               "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                  if p.is_file() and p.name != ".loa.lock") == [
        f"{DISTRICT}/lich-phat-song_ia-ka_2024-W10.html", f"tong-hop_{DISTRICT}_2024-W10.html"]
    res = runner.invoke(main, ["print", "--plan", str(plan_path), "--out", str(tmp_path), "--site", "nowhere"])
    assert res.exit_code == 2 and "nowhere" in res.output and "Traceback" not in res.output
    assert "Example:" in runner.invoke(main, ["print", "--help"]).output
    assert shutil.which("pdftotext") and shutil.which("pdfinfo")  # poppler-utils: `make test` installs it
