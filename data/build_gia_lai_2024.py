#!/usr/bin/env python3
"""Build the generated files of the bundled dataset `data/gia_lai_2024/`.

Writes (deterministically; run it again after changing a rule below):
  areas.csv      province -> 17 district-level units -> 220 commune-level units (early 2024)
  sites.csv      one loudspeaker system per commune-level unit
  segments.csv   national/provincial PAR items, each district's weekly programme, Jrai/Bahnar items
  blackouts.ics  sample no-broadcast periods (written with `icalendar`)
  scripts/<district>-cchc-tuan.txt and the stand-in scripts of the Jrai/Bahnar items
                 (the spoken text; `data/make_audio.py` turns scripts into audio/*.ogg)

Hand-written files (not touched here): dataset.toml, profiles.toml, relays.csv, policy.toml,
README.md and the scripts of the national items.

Inputs: the official unit list with GSO codes (`gia_lai_2024_units.csv`, from the GSO list of
administrative units as of 01/02/2024, with the 1 Nov 2024 changes marked). By default they are
read from `data/sources/` next to this script, falling back to `../shared/data/`.

Every number that is not in the sources is an estimate or an assumption; the rules that make
them are the constants below, and each generated row says in its `source`/`population_source`
column how it was obtained. See data/gia_lai_2024/README.md.

Usage:  .venv/bin/python data/build_gia_lai_2024.py [--sources DIR]
        .venv/bin/python data/make_audio.py            # then regenerate changed audio
"""
from __future__ import annotations

import argparse
import csv
import io
import unicodedata
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

import populations

HERE = Path(__file__).resolve().parent
OUT = HERE / "gia_lai_2024"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# --------------------------------------------------------------------------- districts

# GSO district code -> (area id, approximate district-seat lat, lon, unused)
# Coordinates: approximate position of the district seat (town centre), ~5 km precision, written
# from general geographic knowledge; they are only used for sunrise/sunset (1 km ~ 2 s of sun time).
# Populations come from data/populations.py (census figures in data/sources/, per row).
DISTRICTS = {
    "622": ("pleiku", 13.983, 108.000, 254_000),
    "623": ("an-khe", 13.955, 108.660, 65_000),
    "624": ("ayun-pa", 13.395, 108.440, 39_000),
    "625": ("kbang", 14.135, 108.510, 67_000),
    "626": ("dak-doa", 13.995, 108.120, 118_000),
    "627": ("chu-pah", 14.090, 107.980, 78_000),
    "628": ("ia-grai", 13.980, 107.840, 101_000),
    "629": ("mang-yang", 14.010, 108.280, 65_000),
    "630": ("kong-chro", 13.755, 108.560, 48_000),
    "631": ("duc-co", 13.790, 107.700, 76_000),
    "632": ("chu-prong", 13.750, 107.910, 125_000),
    "633": ("chu-se", 13.690, 108.080, 123_000),
    "634": ("dak-po", 13.940, 108.570, 42_000),
    "635": ("ia-pa", 13.520, 108.500, 56_000),
    "637": ("krong-pa", 13.200, 108.660, 84_000),
    "638": ("phu-thien", 13.520, 108.300, 78_000),
    "639": ("chu-puh", 13.540, 108.070, 73_000),
}
PROVINCE = ("gia-lai", "Gia Lai", "64", 13.983, 108.000)  # GSO province code 64; seat: Pleiku

KIND_DISTRICT = {"Thành phố": "city", "Thị xã": "town", "Huyện": "district"}
KIND_UNIT = {"Phường": "ward", "Xã": "commune", "Thị trấn": "township"}
PREFIX_UNIT = {"ward": "Phường", "commune": "Xã", "township": "Thị trấn"}
PREFIX_DISTRICT = {"city": "thành phố", "town": "thị xã", "district": "huyện"}


# --------------------------------------------------------------------------- languages
# Rule (deterministic, explained in the README):
#  * wards broadcast in Vietnamese only (urban programmes);
#  * in districts where the minority is the majority (CONTEXT: Krông Pa 69% minority; Kông Chro
#    Bahnar programme; Đức Cơ airs Vietnamese-Jrai; Ia Pa and Phú Thiện are Jrai lowlands) every
#    commune and township also broadcasts in the district's ethnic language;
#  * elsewhere, a commune (xã, not a township) whose name is of Jrai or Bahnar origin gets that
#    language: first word Ia/Chư ("Ia" = water in Jrai) -> Jrai; Đăk/Kon/Kông (Bahnar
#    "đak" = water, "kon" = village) -> Bahnar; another indigenous first word -> the district's
#    language; a Sino-Vietnamese name (settlement communes such as Thăng Hưng, Nghĩa Hòa) -> none;
#  * a few named exceptions (EXTRA_LANG) where the name misleads.
JRAI_DISTRICTS = {"pleiku", "chu-pah", "chu-prong", "chu-puh", "chu-se", "duc-co", "ia-grai",
                  "ia-pa", "krong-pa", "phu-thien", "ayun-pa"}
BAHNAR_DISTRICTS = {"kong-chro", "kbang", "mang-yang", "dak-doa", "dak-po", "an-khe"}
MAJORITY_DISTRICTS = {"krong-pa", "ia-pa", "phu-thien", "kong-chro", "duc-co"}
JRAI_WORDS = {"ia", "chu"}
BAHNAR_WORDS = {"dak", "kon", "kong"}
OTHER_ETHNIC_WORDS = {"a", "al", "ayun", "bar", "bo", "cho", "chroh", "de", "dun", "glar", "h", "krong",
                      "hnol", "hra", "k", "lo", "po", "so", "sro", "to", "trang", "uar", "ya", "yang"}
EXTRA_LANG = {
    "pleiku-gao": "jra",  # Gào: Jrai villages west of Pleiku
    "dak-doa-ha-dong": "bdq",  # Hà Đông: remote Bahnar commune despite its Sino-Vietnamese name
    # An Khê's rural communes: Bahnar villages assumed (the issue brief: "An Khê rural")
    "an-khe-tu-an": "bdq", "an-khe-xuan-an": "bdq", "an-khe-cuu-an": "bdq",
    "an-khe-song-an": "bdq", "an-khe-thanh-an": "bdq",
}

# --------------------------------------------------------------------------- profiles
LOWLAND_DISTRICTS = {"ayun-pa", "phu-thien", "ia-pa", "krong-pa", "an-khe", "dak-po", "kbang", "kong-chro"}
COFFEE_DISTRICTS = {"pleiku", "chu-se", "chu-prong", "chu-puh", "dak-doa", "ia-grai", "duc-co",
                    "chu-pah", "mang-yang"}
# Remote Jrai communes of Krông Pa (assumption: east of the Ba river / far from the district seat)
REMOTE_KRONG_PA = {"krong-pa-ia-hdreh", "krong-pa-ia-rmok", "krong-pa-krong-nang", "krong-pa-dat-bang"}
# Rubber communes (assumption: border/plantation communes of Đức Cơ, Chư Prông and Ia Grai where
# state rubber companies operate; a handful, to exercise the rubber profile)
RUBBER = {"duc-co-ia-dom", "duc-co-ia-nan", "chu-prong-ia-puch", "chu-prong-ia-mo",
          "ia-grai-ia-chia", "ia-grai-ia-o"}

# --------------------------------------------------------------------------- technology
# CONTEXT: ~173 wired/FM commune stations plus a first 10 IP ("smart") stations. Which units
# got the IP stations is not in the sources: assumed in Pleiku wards and district towns.
IP_SITES = ["pleiku-hoi-thuong", "pleiku-tay-son", "pleiku-ia-kring", "pleiku-dien-hong",
            "pleiku-hoa-lu", "pleiku-thong-nhat", "an-khe-tay-son", "ayun-pa-cheo-reo",
            "chu-se-chu-se", "dak-doa-dak-doa"]
NO_STATION = {
    "pleiku-tan-son": "assumed: no own station, covered by Biển Hồ's speakers (Tân Sơn merges into Biển Hồ on 1 Nov 2024)",
    "kbang-dak-hlo": "assumed: no working station (Đăk HLơ is dissolved on 1 Nov 2024)",
    "krong-pa-chu-rcam": "assumed placeholder: station out of service (the real list of communes without a working station is not in the sources)",
    "kong-chro-ya-ma": "assumed placeholder: station out of service (the real list of communes without a working station is not in the sources)",
}
# Sites fed by one district FM transmitter (assumption): same district, profile and languages.
SYNC_GROUPS = {
    "ia-pa-fm-1": ["ia-pa-chu-mo", "ia-pa-ia-tul", "ia-pa-ia-broai"],
    "krong-pa-fm-1": ["krong-pa-ia-hdreh", "krong-pa-ia-rmok"],
    "kong-chro-fm-1": ["kong-chro-dak-pling", "kong-chro-dak-song"],
}

SRC_COORD = ("coordinates: approximate district-seat coordinates (general geographic knowledge, "
             "~5 km), used only for sunrise/sunset")


def slug(text: str) -> str:
    t = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    out, dash = [], False
    for c in t:
        if c.isascii() and c.isalnum():
            out.append(c)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in header})
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(path)


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


SOURCES = HERE / "sources"
UNITS: list[dict] = []


def read_units(src: Path) -> list[dict]:
    with (src / "gia_lai_2024_units.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    with (src / "gia_lai_2024_districts.csv").open(encoding="utf-8-sig", newline="") as f:
        dist = {r["district_code"]: r for r in csv.DictReader(f)}
    assert len(rows) == 220, len(rows)
    assert set(dist) == set(DISTRICTS), sorted(set(dist) ^ set(DISTRICTS))
    for r in rows:
        r["district_source"] = dist[r["district_code"]]["source"]
    return rows


# --------------------------------------------------------------------------- areas


def build_areas(units: list[dict]) -> tuple[list[dict], dict[str, dict]]:
    pid, pname, pcode, plat, plon = PROVINCE
    areas = [dict(area_id=pid, name=pname, kind="Tỉnh", parent_id="", code=pcode, lat=plat, lon=plon,
                  source="GSO province code 64; lat/lon: approximate coordinates of the provincial seat (Pleiku)")]
    info: dict[str, dict] = {}
    seen_d: set[str] = set()
    # two units of one district whose names differ only by diacritics (Chư Prông: Ia Băng and
    # Ia Bang) would get one slug: both then get their GSO code appended
    slug_count: dict[tuple[str, str], int] = {}
    for u in units:
        key = (u["district_code"], slug(nfc(u["commune_name"])))
        slug_count[key] = slug_count.get(key, 0) + 1
    for u in units:
        dcode = u["district_code"]
        did, lat, lon, _pop = DISTRICTS[dcode]
        if dcode not in seen_d:
            seen_d.add(dcode)
            dname = nfc(u["district_name"])
            kind = KIND_DISTRICT[u["district_kind"]]
            assert slug(dname) == did, (dname, did)
            areas.append(dict(area_id=did, name=dname, kind=u["district_kind"], parent_id=pid, code=dcode, lat=lat, lon=lon,
                              source=f"{u['district_source']}; {SRC_COORD}"))
        name = nfc(u["commune_name"])
        kind = KIND_UNIT[u["commune_kind"]]
        aid = f"{did}-{slug(name)}"
        if slug_count[(dcode, slug(name))] > 1:
            aid = f"{aid}-{u['commune_code']}"
        assert aid not in info, aid
        src = u["source"]
        change = nfc(u.get("changed_2024_11") or "")
        if change:
            src = f"{src}; changes on 1 Nov 2024: {change}"
        areas.append(dict(area_id=aid, name=name, kind=u["commune_kind"], parent_id=did, code=u["commune_code"],
                          lat="", lon="", source=src))
        info[aid] = dict(id=aid, name=name, kind=kind, district=did, code=u["commune_code"],
                         district_name=nfc(u["district_name"]), changed=bool(change),
                         district_kind=KIND_DISTRICT[u["district_kind"]])
    return areas, info


# --------------------------------------------------------------------------- sites


def languages_of(u: dict) -> tuple[list[str], str]:
    """Languages of a unit and the rule that gave them."""
    did, kind = u["district"], u["kind"]
    district_lang = "jra" if did in JRAI_DISTRICTS else "bdq" if did in BAHNAR_DISTRICTS else ""
    if kind == "ward":
        return ["vi"], "ward: Vietnamese only"
    if did in MAJORITY_DISTRICTS:
        return ["vi", district_lang], f"minority-majority district: every commune/township adds {district_lang}"
    if u["id"] in EXTRA_LANG:
        return ["vi", EXTRA_LANG[u["id"]]], "named exception (see build script)"
    if kind == "commune":
        first = slug(u["name"]).split("-")[0]
        if first in JRAI_WORDS:
            return ["vi", "jra"], f"name of Jrai origin ('{first}')"
        if first in BAHNAR_WORDS:
            return ["vi", "bdq"], f"name of Bahnar origin ('{first}')"
        if first in OTHER_ETHNIC_WORDS and district_lang:
            return ["vi", district_lang], f"indigenous name ('{first}') in a {district_lang} district"
    return ["vi"], "Sino-Vietnamese name or township: Vietnamese only"


def profile_of(u: dict, langs: list[str]) -> str:
    sid, did = u["id"], u["district"]
    if u["kind"] == "ward":
        return "urban-ward"
    if sid in RUBBER:
        return "rubber"
    if did == "krong-pa" and sid in REMOTE_KRONG_PA:
        return "ethnic-village"
    if did == "kong-chro" and u["kind"] == "commune":
        return "ethnic-village"
    if did == "kbang" and u["kind"] == "commune" and "bdq" in langs:
        return "ethnic-village"
    if did in LOWLAND_DISTRICTS:
        return "lowland-rice"
    if did in COFFEE_DISTRICTS:
        return "upland-coffee"
    raise AssertionError(sid)


def build_sites(info: dict[str, dict]) -> list[dict]:
    figures = populations.gia_lai_2024(SOURCES, UNITS)
    pop = {sid: figures[u["code"]].population for sid, u in info.items()}
    pop_src = {sid: figures[u["code"]].source for sid, u in info.items()}
    group_of = {sid: g for g, members in SYNC_GROUPS.items() for sid in members}
    sites = []
    market_of: dict[str, str] = {}
    for u in info.values():
        sid = u["id"]
        langs, _why = languages_of(u)
        prof = profile_of(u, langs)
        kind = "urban" if u["kind"] == "ward" else "rural"
        if sid in IP_SITES:
            tech = "ip"
        elif u["kind"] in ("ward", "township"):
            tech = "wired"
        else:
            tech = "fm"
        # one market day per rural unit, deterministic from the GSO code; sync-group members
        # share the first member's day (identical schedules, same audience rhythm)
        market = "" if kind == "urban" else DAYS[int(u["code"]) % 7]
        g = group_of.get(sid)
        if g:
            first = SYNC_GROUPS[g][0]
            market = market_of.setdefault(g, DAYS[int(info[first]["code"]) % 7])
        psrc = pop_src[sid]
        has = "yes"
        if sid in NO_STATION:
            has = "no"
            psrc = f"{psrc}; has_station=no: {NO_STATION[sid]}"
        prefix = PREFIX_UNIT[u["kind"]]
        sites.append(dict(site_id=sid, name=f"{prefix} {u['name']}", area_id=sid, kind=kind, technology=tech,
                          population=pop[sid], population_source=psrc, languages=";".join(langs),
                          profile=prof, market_days=market, sync_group=g or "", has_station=has))
    # disambiguate identical station names with the district in brackets
    counts: dict[str, int] = {}
    for s in sites:
        counts[s["name"]] = counts.get(s["name"], 0) + 1
    for s in sites:
        if counts[s["name"]] > 1:
            s["name"] = f"{s['name']} ({info[s['site_id']]['district_name']})"
    # sanity: sync groups are homogeneous
    by_id = {s["site_id"]: s for s in sites}
    for g, members in SYNC_GROUPS.items():
        keys = {(by_id[m]["profile"], by_id[m]["languages"], by_id[m]["technology"], by_id[m]["has_station"],
                 by_id[m]["kind"]) for m in members}
        assert len(keys) == 1, (g, keys)
    for sid in IP_SITES + list(NO_STATION) + list(RUBBER) + list(REMOTE_KRONG_PA) + list(EXTRA_LANG):
        assert sid in by_id, sid
    return sites


# --------------------------------------------------------------------------- segments

NATIONAL_SOURCE = "Nội dung mẫu theo KH 139/KH-STTTT (Sở TT&TT Gia Lai) – bộ dữ liệu loa"
# id, title, topic (content area II.n of plan 139/KH-STTTT), min, max, priority, valid_from, valid_to, scope, note
NATIONAL = [
    ("cchc-vi-sao", "Vì sao phải cải cách hành chính?", 1, 1, 3, 4, "", "", ""),
    ("ke-hoach-tuyen-truyen-2024", "Kế hoạch tuyên truyền cải cách hành chính năm 2024 của tỉnh Gia Lai", 10, 0, 2, 3, "", "", ""),
    ("chuong-trinh-tong-the-2021-2030", "Chương trình tổng thể cải cách hành chính nhà nước giai đoạn 2021–2030", 2, 1, 2, 3, "", "", ""),
    ("trach-nhiem-nguoi-dung-dau", "Trách nhiệm của người đứng đầu trong cải cách hành chính", 3, 0, 2, 2, "", "", ""),
    ("cai-cach-the-che", "Cải cách thể chế: pháp luật rõ ràng, dễ hiểu, dễ thực hiện", 4, 0, 2, 2, "", "", ""),
    ("luat-can-cuoc", "Luật Căn cước có hiệu lực từ ngày 1/7/2024", 10, 1, 3, 4, "2024-06-01", "2024-09-30", ""),
    ("bo-may-tinh-gon", "Sắp xếp tổ chức bộ máy tinh gọn, hiệu lực, hiệu quả", 4, 0, 2, 2, "", "", ""),
    ("sap-xep-don-vi-hanh-chinh-2024", "Sắp xếp đơn vị hành chính cấp xã từ ngày 1/11/2024 (Pleiku, Kbang)", 4, 2, 4, 5, "2024-10-15", "2024-11-30", "pleiku;kbang"),
    ("mot-cua-lien-thong", "Bộ phận Một cửa: nộp hồ sơ một nơi, nhận kết quả một nơi", 4, 1, 3, 5, "", "", ""),
    ("dich-vu-cong-truc-tuyen", "Nộp hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia", 4, 1, 3, 5, "", "", ""),
    ("buu-chinh-cong-ich", "Gửi hồ sơ, nhận kết quả thủ tục hành chính qua bưu điện", 4, 0, 2, 3, "", "", ""),
    ("cai-cach-cong-vu", "Cải cách chế độ công vụ: cán bộ vì dân phục vụ", 4, 0, 2, 3, "", "", ""),
    ("van-hoa-cong-vu", "Văn hóa công vụ: tận tình, minh bạch, không gây phiền hà", 9, 0, 2, 2, "", "", ""),
    ("chi-so-par-index-sipas", "Chỉ số cải cách hành chính PAR INDEX và chỉ số hài lòng SIPAS", 4, 1, 2, 3, "", "", ""),
    ("chi-so-papi", "Chỉ số PAPI: người dân đánh giá chính quyền", 4, 0, 2, 3, "", "", ""),
    ("chi-so-pci-ddci-dti", "Các chỉ số PCI, DDCI và DTI là gì?", 4, 0, 2, 2, "", "", ""),
    ("dinh-danh-dien-tu-vneid", "Đề án 06: tài khoản định danh điện tử VNeID", 4, 0, 2, 4, "", "", ""),
    ("thang-3-kich-hoat-vneid", "Tháng Ba: hỗ trợ kích hoạt tài khoản định danh điện tử", 4, 2, 4, 5, "2024-03-01", "2024-03-31", ""),
    ("chuyen-doi-so", "Chuyển đổi số: chính quyền số, công dân số", 8, 0, 2, 3, "", "", ""),
    ("ket-qua-va-han-che", "Kết quả và hạn chế trong cải cách hành chính", 5, 0, 2, 2, "", "", ""),
    ("mo-hinh-hay-o-co-so", "Những cách làm hay phục vụ người dân ở cơ sở", 6, 0, 2, 2, "", "", ""),
    ("phan-anh-kien-nghi", "Phản ánh, kiến nghị về thủ tục hành chính ở đâu?", 9, 1, 3, 5, "", "", ""),
    ("dan-chu-o-co-so", "Luật Thực hiện dân chủ ở cơ sở: dân biết, dân bàn, dân làm, dân kiểm tra", 7, 1, 2, 4, "", "", ""),
]
NATIONAL_NOTES = {
    "luat-can-cuoc": "airs around the law's entry into force (1 Jul 2024)",
    "sap-xep-don-vi-hanh-chinh-2024": "NQ 1195/NQ-UBTVQH15, effective 1 Nov 2024 (see areas.csv source column)",
    "thang-3-kich-hoat-vneid": "campaign month is an assumption of this sample dataset",
}

# Pool of paragraphs for the districts' weekly programmes: (topic II.n, text); a programme takes the topic
# of its first paragraph. Generic, true
# statements about procedures; nothing here claims a local event or a local figure.
POOL = [
    (4, "Bộ phận Một cửa của {dpre} {dname} và của các xã, phường, thị trấn tiếp nhận hồ sơ thủ tục hành chính vào các ngày làm việc trong tuần. "
        "Trước khi đi, bà con nên hỏi trước cán bộ xã hoặc xem danh mục thủ tục được niêm yết để chuẩn bị đủ giấy tờ, tránh phải đi lại nhiều lần. "
        "Khi nộp hồ sơ, bà con nhớ nhận giấy tiếp nhận và hẹn trả kết quả. Đến ngày hẹn, bà con mang theo giấy này để nhận kết quả. "
        "Nếu hồ sơ cần bổ sung, cán bộ phải hướng dẫn một lần, đầy đủ và bằng văn bản."),
    (4, "Nhiều thủ tục hành chính nay đã làm được trên điện thoại. "
        "Bà con cài ứng dụng VNeID, kích hoạt tài khoản định danh điện tử mức hai tại công an xã, rồi đăng nhập Cổng Dịch vụ công quốc gia để nộp hồ sơ. "
        "Các thủ tục thường làm như đăng ký khai sinh, đăng ký thường trú, cấp phiếu lý lịch tư pháp đều có thể nộp trực tuyến. "
        "Tổ công nghệ số cộng đồng ở các thôn, làng sẵn sàng giúp bà con từng bước, không thu tiền."),
    (4, "Về thủ tục đất đai, bà con cần chú ý: mọi thủ tục cấp, đổi, đăng ký biến động giấy chứng nhận quyền sử dụng đất đều có danh mục giấy tờ và thời hạn giải quyết được niêm yết công khai. "
        "Bà con nên trực tiếp nộp hồ sơ tại Bộ phận Một cửa, hoặc nộp trực tuyến, không nên nhờ người không có trách nhiệm làm hộ. "
        "Các khoản tiền phải nộp đều có thông báo bằng văn bản của cơ quan thuế; bà con chỉ nộp theo thông báo và giữ lại biên lai."),
    (4, "Khi trong gia đình có em bé mới sinh, cha mẹ cần đăng ký khai sinh cho con trong thời hạn sáu mươi ngày kể từ ngày sinh. "
        "Khai sinh đúng hạn giúp cháu sớm có số định danh cá nhân, được cấp thẻ bảo hiểm y tế để khám chữa bệnh, và sau này đi học thuận lợi. "
        "Bà con có thể đăng ký tại Ủy ban nhân dân xã nơi cư trú hoặc nộp hồ sơ trực tuyến. Nếu chưa rõ, hãy hỏi cán bộ tư pháp, hộ tịch của xã."),
    (9, "Bà con có quyền phản ánh, kiến nghị khi bị đòi thêm giấy tờ ngoài quy định, bị thu tiền ngoài các khoản phí, lệ phí đã niêm yết, hoặc khi hồ sơ bị trễ hẹn mà không được giải thích. "
         "Bà con có thể phản ánh trực tiếp với lãnh đạo Ủy ban nhân dân xã, {dpre}, qua hộp thư góp ý, qua số điện thoại đường dây nóng niêm yết tại Bộ phận Một cửa, "
         "hoặc trên Cổng Dịch vụ công quốc gia. Mọi phản ánh đều phải được tiếp nhận và trả lời."),
    (8, "Xin bà con hết sức cảnh giác với các thủ đoạn lừa đảo qua điện thoại và mạng xã hội. "
        "Cán bộ công an, cán bộ xã không bao giờ gọi điện yêu cầu bà con đọc mã xác thực, chuyển tiền, hoặc cài ứng dụng lạ để làm thủ tục. "
        "Khi nhận được cuộc gọi, tin nhắn đáng ngờ, bà con hãy báo ngay cho công an xã hoặc trưởng thôn, làng."),
    (9, "Cán bộ, công chức khi tiếp dân phải lịch sự, tận tình, hướng dẫn rõ ràng, không được gây phiền hà, không được nhận quà hay tiền của người dân. "
        "Với đồng bào dân tộc thiểu số, cán bộ cần giải thích bằng lời lẽ dễ hiểu, và khi cần thì nhờ người phiên dịch. "
        "Ý kiến đánh giá của bà con về thái độ phục vụ là căn cứ để đánh giá, xếp loại cán bộ hằng năm."),
    (7, "Theo Luật Thực hiện dân chủ ở cơ sở, những việc như thu chi các khoản đóng góp của nhân dân, kế hoạch sử dụng đất, danh sách hộ được hưởng chính sách hỗ trợ phải được công khai để dân biết. "
         "Bà con được bàn và quyết định những việc chung của thôn, làng, và được giám sát qua Ban Thanh tra nhân dân. "
         "Hãy tham gia các cuộc họp thôn, làng để tiếng nói của mình được lắng nghe."),
    (4, "Bà con ở xa trung tâm có thể gửi hồ sơ và nhận kết quả thủ tục hành chính qua bưu điện. "
        "Hãy đến bưu điện văn hóa xã hoặc gọi nhân viên bưu điện để được nhận hồ sơ tại nhà. "
        "Cách làm này giúp bà con tiết kiệm thời gian, không phải bỏ ngày công đi lên huyện."),
    (5, "Cải cách hành chính đã giúp nhiều việc trở nên nhanh hơn: nhiều giấy tờ được trả ngay trong ngày, nhiều thủ tục không cần nộp bản sao có chứng thực khi dữ liệu đã có trong cơ sở dữ liệu quốc gia về dân cư. "
        "Tuy vậy, ở vùng sâu, vùng xa, vẫn còn nhiều bà con chưa quen dùng dịch vụ công trực tuyến. "
        "Chính quyền xã đang tổ chức hướng dẫn tại chỗ; bà con hãy mạnh dạn hỏi và đề nghị được hỗ trợ."),
]
POOL += [
    (10, "Từ ngày 1 tháng 1 năm 2023, sổ hộ khẩu và sổ tạm trú bằng giấy không còn được sử dụng. "
        "Khi làm thủ tục, bà con có thể dùng thẻ căn cước, tài khoản định danh điện tử VNeID, hoặc giấy xác nhận thông tin về cư trú để chứng minh nơi cư trú. "
        "Những thông tin đã có trong cơ sở dữ liệu quốc gia về dân cư thì cơ quan giải quyết có trách nhiệm tự khai thác, giúp bà con bớt giấy tờ phải mang theo."),
    (4, "Ở mỗi xã, phường, thị trấn, Ủy ban nhân dân có các công chức phụ trách từng lĩnh vực: văn phòng và thống kê, tư pháp và hộ tịch, địa chính, tài chính và kế toán, văn hóa và xã hội. "
        "Mỗi việc của bà con đều có người phụ trách rõ ràng. Khi chưa biết hỏi ai, bà con cứ đến Bộ phận Một cửa, cán bộ ở đó có trách nhiệm hướng dẫn và chuyển hồ sơ đến đúng người, đúng việc."),
    (4, "Sau khi làm thủ tục, bà con có thể được mời đánh giá mức độ hài lòng, bằng phiếu giấy, bằng thiết bị điện tử đặt tại Bộ phận Một cửa, hoặc trên mạng. "
        "Xin bà con dành một phút đánh giá trung thực. Những đánh giá này được tổng hợp để xếp hạng các cơ quan, và là một phần của các chỉ số cải cách hành chính của tỉnh."),
    (1, "Cải cách hành chính không chỉ là việc của cán bộ, mà là việc chung của mọi người. "
        "Khi bà con chuẩn bị hồ sơ đầy đủ, nộp đúng nơi, đúng hạn, khi bà con mạnh dạn góp ý những chỗ còn phiền hà, thì bộ máy sẽ ngày càng phục vụ tốt hơn. "
        "Một nền hành chính công khai, minh bạch giúp bà con yên tâm làm ăn, giúp thôn, làng phát triển."),
]
PICKS_RURAL = 7  # paragraphs in a district (huyện) programme: ~3.5-4.5 min
PICKS_URBAN = 6  # paragraphs in a city/town programme: ~3 min, fits a 15-min urban session


def pool_picks(idx: int, n: int) -> list[int]:
    """n distinct pool paragraphs for the idx-th district: a stride-5 walk (5 is coprime with 14)."""
    assert len(POOL) == 14
    return [(idx + 5 * k) % len(POOL) for k in range(n)]

STANDINS = [
    # id, title, topic, language, district, seconds, min, max, priority, language name
    ("krong-pa-cchc-jrai", "Chuyên mục cải cách hành chính tiếng Jrai – huyện Krông Pa", 4, "jra", "krong-pa", 360, 5, 5, 5, "Jrai"),
    ("duc-co-cchc-jrai", "Chương trình cải cách hành chính tiếng Jrai – huyện Đức Cơ", 7, "jra", "duc-co", 300, 1, 2, 4, "Jrai"),
    ("kong-chro-cchc-bahnar", "Chương trình cải cách hành chính tiếng Bahnar – huyện Kông Chro", 4, "bdq", "kong-chro", 600, 1, 1, 5, "Bahnar"),
]


def district_programme(did: str, dname: str, dkind: str, n_units: dict[str, int], idx: int) -> tuple[str, int]:
    dpre = PREFIX_DISTRICT[dkind]
    units = ", ".join(f"{n} {PREFIX_UNIT[k].lower()}" for k, n in n_units.items() if n)
    picks = pool_picks(idx, PICKS_RURAL if dkind == "district" else PICKS_URBAN)
    lines = [
        "Kính thưa bà con!",
        f"Trung tâm Văn hóa, Thông tin và Thể thao {dpre} {dname} xin gửi tới bà con chuyên mục Cải cách hành chính phát hằng tuần.",
        f"{dpre.capitalize()} {dname} có {units}. Mọi thủ tục hành chính của bà con được tiếp nhận tại Bộ phận Một cửa của xã, phường, thị trấn và của {dpre}.",
    ]
    for p in picks:
        lines.append(POOL[p][1].format(dpre=dpre, dname=dname))
    lines.append(f"Chuyên mục Cải cách hành chính của {dpre} {dname} phát hằng tuần trên hệ thống truyền thanh cơ sở. Cảm ơn bà con đã lắng nghe.")
    return "\n".join(lines) + "\n", POOL[picks[0]][0]


def build_segments(info: dict[str, dict], areas: list[dict]) -> list[dict]:
    segs = []
    for sid, title, topic, mn, mx, prio, vf, vt, scope in NATIONAL:
        assert (OUT / "scripts" / f"{sid}.txt").exists(), sid
        segs.append(dict(segment_id=sid, title=title, topic=topic, language="vi", audio=f"audio/{sid}.ogg",
                         min_plays=mn, max_plays=mx, priority=prio, valid_from=vf, valid_to=vt, scope=scope,
                         min_gap_min="", source=NATIONAL_SOURCE, note=NATIONAL_NOTES.get(sid, "")))
    districts = [a for a in areas if a["parent_id"] == PROVINCE[0]]
    for idx, d in enumerate(districts):
        did = d["area_id"]
        counts = {"ward": 0, "commune": 0, "township": 0}
        for u in info.values():
            if u["district"] == did:
                counts[u["kind"]] += 1
        dkind = KIND_DISTRICT[d["kind"]]
        text, topic = district_programme(did, d["name"], dkind, counts, idx)
        sid = f"{did}-cchc-tuan"
        write_text(OUT / "scripts" / f"{sid}.txt", "# generated by data/build_gia_lai_2024.py – edit the pool there\n" + text)
        dpre = PREFIX_DISTRICT[dkind]
        segs.append(dict(segment_id=sid, title=f"Chuyên mục cải cách hành chính {dpre} {d['name']} (hằng tuần)",
                         topic=topic, language="vi", audio=f"audio/{sid}.ogg", min_plays=1, max_plays=2, priority=4,
                         valid_from="", valid_to="", scope=did, min_gap_min=2880,
                         source=f"Trung tâm Văn hóa, Thông tin và Thể thao {dpre} {d['name']} (bản mẫu)",
                         note="sample text synthesised with espeak-ng; replace with the centre's own weekly recording"))
    dname = {a["area_id"]: a["name"] for a in districts}
    for sid, title, topic, lang, did, secs, mn, mx, prio, lname in STANDINS:
        text = (f"# target_seconds: {secs}\n"
                f"# stand-in: there is no {lname} voice to synthesise; replace audio/{sid}.ogg with the district's recording\n"
                f"Đây là tệp âm thanh thay thế tạm thời cho chương trình cải cách hành chính bằng tiếng {lname} của huyện {dname[did]}.\n"
                f"Bộ dữ liệu mẫu không có giọng đọc tiếng {lname}.\n"
                f"Trung tâm Văn hóa, Thông tin và Thể thao huyện {dname[did]} cần thay tệp này bằng bản ghi âm tiếng {lname} của mình trước khi phát.\n")
        write_text(OUT / "scripts" / f"{sid}.txt", text)
        segs.append(dict(segment_id=sid, title=title, topic=topic, language=lang, audio=f"audio/{sid}.ogg",
                         min_plays=mn, max_plays=mx, priority=prio, valid_from="", valid_to="", scope=did,
                         min_gap_min="", source=f"Trung tâm Văn hóa, Thông tin và Thể thao huyện {dname[did]}",
                         note=(f"STAND-IN AUDIO: Vietnamese placeholder speech of the programme's length ({secs // 60} min); "
                               f"replace with the district's {lname} recording")))
    return segs


# --------------------------------------------------------------------------- blackouts

BLACKOUTS = [
    # uid, summary, start, end, scope, description
    ("chu-se-2024-03-08-mit-tinh", "Tạm ngừng phát: mít tinh kỷ niệm Ngày Quốc tế Phụ nữ 8/3 tại trung tâm huyện (ví dụ)",
     datetime(2024, 3, 8, 10, 30), datetime(2024, 3, 8, 13, 30), "chu-se",
     "Sample local event, invented to exercise blackouts in the demo week 2024-W10: the district's speakers carry "
     "the rally live, so no regular programme airs 10:30-13:30 on Fri 8 Mar 2024 in Chư Sê."),
    ("krong-pa-phu-can-2024-04-16-bao-duong", "Bảo dưỡng hệ thống truyền thanh xã Phú Cần (ví dụ)",
     datetime(2024, 4, 16, 13, 0), datetime(2024, 4, 16, 16, 30), "krong-pa-phu-can",
     "Sample maintenance window for one commune station (invented); it ends before the provincial news at 17:00."),
    ("quoc-tang-2024-07-25", "Quốc tang Tổng Bí thư Nguyễn Phú Trọng: tạm dừng chương trình thường kỳ",
     datetime(2024, 7, 25, 0, 0), datetime(2024, 7, 27, 0, 0), "gia-lai",
     "State funeral 25-26 Jul 2024. Regular programmes are suspended; the funeral coverage the stations relay "
     "is outside this dataset, so the whole period is modelled as a blackout (modelling choice)."),
]


# blackouts meant to silence the mandatory relays too (loa validate warns about any other)
SUSPENDS_RELAYS = {"quoc-tang-2024-07-25"}


def build_blackouts() -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//loa//Gia Lai 2024 blackouts//VI")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Gia Lai 2024 – ngừng phát thanh")
    cal.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    stamp = datetime(2024, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC"))
    for uid, summary, start, end, scope, desc in BLACKOUTS:
        ev = icalendar.Event()
        ev.add("uid", f"{uid}@loa.gia-lai-2024")
        ev.add("dtstamp", stamp)
        ev.add("summary", summary)
        ev.add("dtstart", start.replace(tzinfo=TZ))
        ev.add("dtend", end.replace(tzinfo=TZ))
        ev.add("description", desc)
        ev.add("x-loa-scope", scope)
        if uid in SUSPENDS_RELAYS:
            ev.add("x-loa-suspends-relays", "yes")
        cal.add_component(ev)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    return cal.to_ical()


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_src = HERE / "sources"
    if not (default_src / "gia_lai_2024_units.csv").exists():
        default_src = HERE.parent.parent / "shared" / "data"
    ap.add_argument("--sources", default=str(default_src), help="folder with gia_lai_2024_units.csv/_districts.csv")
    args = ap.parse_args(argv)
    global SOURCES, UNITS
    SOURCES = Path(args.sources)
    units = read_units(SOURCES)
    UNITS = units
    (OUT / "scripts").mkdir(parents=True, exist_ok=True)
    areas, info = build_areas(units)
    sites = build_sites(info)
    segs = build_segments(info, areas)
    write_csv(OUT / "areas.csv", ["area_id", "name", "kind", "parent_id", "code", "lat", "lon", "source"], areas)
    write_csv(OUT / "sites.csv", ["site_id", "name", "area_id", "kind", "technology", "population", "population_source",
                                  "languages", "profile", "market_days", "sync_group", "has_station"], sites)
    write_csv(OUT / "segments.csv", ["segment_id", "title", "topic", "language", "audio", "min_plays", "max_plays",
                                     "priority", "valid_from", "valid_to", "scope", "min_gap_min", "source", "note"], segs)
    tmp = OUT / "blackouts.ics.tmp"
    tmp.write_bytes(build_blackouts())
    tmp.replace(OUT / "blackouts.ics")
    print(f"areas {len(areas)}, sites {len(sites)}, segments {len(segs)}, blackouts {len(BLACKOUTS)} -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
