#!/usr/bin/env python3
"""Build the bundled dataset `data/gia_lai_2025/`: the new Gia Lai (with Bình Định) since 1 July 2025.

Two tiers: the province and its 135 communes and wards (Resolution 1664/NQ-UBTVQH15). Writes,
deterministically:
  areas.csv      province -> 135 commune-level units; each names its reporting group
  groups.csv     28 reporting groups (kind "Khu vực"): the communes formed from one former
                 district-level unit, for policy, scopes, calendars and report pages; not a level
  sites.csv      one loudspeaker system per new unit (stations merge into one per commune)
  segments.csv   provincial PAR items (producer: the province), the province's weekly programme,
                 two communes' own programmes, the Jrai/Bahnar items of the former district areas
  relays.csv, profiles.toml, policy.toml: those of data/gia_lai_2024 (policy's Krông Pa override
                 now on the group of its communes)
  blackouts.ics  one sample maintenance window in the demo week 2025-W48
  dataset.toml   name and sources
  scripts/*.txt  the spoken text of the new items (`data/make_audio.py --data data/gia_lai_2025`)
  audio/         the new items' audio (make_audio.py) and copies of the 2024 files reused (git
                 stores a copied file once: same bytes, same blob)

Inputs in data/sources/: gia_lai_2025_communes.csv (the 135 units with codes, kinds, the communes
each was formed from and sources; copied from ../shared/data/), gia_lai_2024_units.csv and the
population sources of data/populations.py. Every estimate says so in its row.

Usage:  .venv/bin/python data/build_gia_lai_2025.py && .venv/bin/python data/make_audio.py --data data/gia_lai_2025
"""
from __future__ import annotations

import csv
import re
import shutil
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_gia_lai_2024 as y2024  # noqa: E402  (the 2024 rules: slugs, writers, national items)
import populations  # noqa: E402

OUT = HERE / "gia_lai_2025"
Y2024 = HERE / "gia_lai_2024"
SOURCES = HERE / "sources"
ROOT = ("gia-lai", "Gia Lai", "Tỉnh", "52", 13.776, 109.223)  # seat: Quy Nhơn
SRC_ROOT = ("NQ 202/2025/QH15 (tỉnh Gia Lai và tỉnh Bình Định hợp thành tỉnh Gia Lai, from 1 Jul 2025), "
            "code 52; lat/lon: approximate coordinates of the provincial seat (Quy Nhơn)")

# Bình Định's former district-level units: (name as the census layer writes it, approx. seat lat, lon)
# Coordinates: general geographic knowledge, ~5 km; used only for sunrise/sunset.
BINH_DINH = {
    "Quy Nhơn": (13.776, 109.223), "An Nhơn": (13.886, 109.098), "Hoài Nhơn": (14.470, 109.030),
    "An Lão": (14.555, 108.895), "Hoài Ân": (14.360, 108.910), "Phù Mỹ": (14.175, 109.050),
    "Vĩnh Thạnh": (14.134, 108.775), "Tây Sơn": (13.910, 108.910), "Phù Cát": (13.990, 109.050),
    "Tuy Phước": (13.830, 109.130), "Vân Canh": (13.620, 108.990),
}
# Bình Định's mountain districts: Bahnar villages (with Hrê and Chăm Hroi) — assumption: their
# new communes broadcast in Vietnamese and Bahnar and follow the ethnic-village profile
BD_BAHNAR = {"An Lão", "Vĩnh Thạnh", "Vân Canh"}
# small unmerged border communes fed by one FM transmitter (assumption): same profile and languages
SYNC_GROUPS = {"duc-co-bien-gioi-fm": ["ia-dom", "ia-nan"], "chu-prong-bien-gioi-fm": ["ia-puch", "ia-mo"]}
# units dissolved on 1 Nov 2024 (the 2025 resolution no longer names them) -> the 2024 unit that took them
FOLDED_2024_11 = {("Pleiku", "Tân Sơn"): "Biển Hồ", ("KBang", "Đăk HLơ"): "Kông Bơ La"}
DROPPED_NATIONAL = {"thang-3-kich-hoat-vneid", "luat-can-cuoc", "sap-xep-don-vi-hanh-chinh-2024",
                    "ke-hoach-tuyen-truyen-2024"}  # dated 2024 items
PROVINCE_SOURCE = "Sở Văn hóa, Thể thao và Du lịch tỉnh Gia Lai (nội dung mẫu)"
DAYS = y2024.DAYS


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- what each unit was formed from

_PART = re.compile(r"^(?:(một phần) |(phần còn lại của) )?(xã|phường|thị trấn) (.+?)(?: \((?:huyện|thị xã|thành phố) ([^)]+)\))?"
                   r"(?: \(sau khoản \d+\))?(?: — .*)?$")


def parts(formed_from: str) -> list[dict]:
    """'xã An Trung (huyện An Lão); một phần xã Canh Hiệp' -> [{name, kind, district, share}, ...]."""
    out = []
    for raw in formed_from.split(";"):
        m = _PART.match(raw.strip())
        assert m, raw
        share = "part" if m.group(1) else "rest" if m.group(2) else "whole"
        out.append({"name": m.group(4).strip(), "kind": m.group(3), "district": m.group(5) or "", "share": share})
    return out


def old_units(units_2024: list[dict], figures_2024: dict) -> dict:
    """Old units to match: Gia Lai's from the 2024 list, Bình Định's from the census layer."""
    gl: dict[str, list[dict]] = {}
    for u in units_2024:
        gl.setdefault(populations.key(u["commune_name"]), []).append(
            {"district": u["district_name"], "name": u["commune_name"], "code": u["commune_code"],
             "figure": figures_2024[u["commune_code"]], "province": "Gia Lai"})
    bd: dict[str, list[dict]] = {}
    figures_bd = populations.binh_dinh(SOURCES)
    for r in _read(populations.LAYER):
        dk, ck = populations.key(r["district"]), populations.key(r["commune"])
        if r["province"] != "Bình Định" or (dk, ck) not in figures_bd:
            continue
        district = next(d for d in BINH_DINH if populations.key(d) == dk)
        bd.setdefault(ck, []).append({"district": district, "name": r["commune"], "code": "",
                                      "figure": figures_bd[(dk, ck)], "province": "Bình Định"})
    return {"Gia Lai": gl, "Bình Định": bd}


def resolve(unit: dict, olds: dict) -> list[tuple[dict, dict]]:
    """(part, old unit) for each part of a new unit; ambiguous names by the district hint, else by
    the district of the unit's other parts."""
    province = "Bình Định" if int(unit["commune_code"]) < 23000 else "Gia Lai"
    table = olds[province]
    found: list[tuple[dict, list[dict]]] = []
    for part in parts(unit["formed_from"]):
        candidates = table.get(populations.key(part["name"]), [])
        if part["district"]:
            candidates = [c for c in candidates if populations.key(c["district"]) == populations.key(part["district"])]
        assert candidates, (unit["commune_name"], part)
        found.append((part, candidates))
    sure = Counter(c[0]["district"] for _, c in found if len(c) == 1)
    out = []
    for part, candidates in found:
        if len(candidates) > 1:
            candidates = sorted(candidates, key=lambda c: -sure.get(c["district"], 0))
            assert sure.get(candidates[0]["district"]), (unit["commune_name"], part, candidates)
        out.append((part, candidates[0]))
    return out


# --------------------------------------------------------------------------- areas, groups, sites


def build(units_2025: list[dict]) -> tuple[list[dict], list[dict], list[dict], dict]:
    units_2024 = _read(SOURCES / "gia_lai_2024_units.csv")
    figures_2024 = populations.gia_lai_2024(SOURCES, units_2024)
    olds = old_units(units_2024, figures_2024)
    sites_2024 = {r["site_id"]: r for r in _read(Y2024 / "sites.csv")}
    code_to_site = {r["code"]: r["area_id"] for r in _read(Y2024 / "areas.csv") if r["code"]}
    folded = {new: (d, old) for (d, old), new in FOLDED_2024_11.items()}
    slugs = Counter(y2024.slug(u["commune_name"]) for u in units_2025)

    rid, rname, rkind, rcode, rlat, rlon = ROOT
    areas = [dict(area_id=rid, name=rname, kind=rkind, parent_id="", code=rcode, lat=rlat, lon=rlon,
                  source=SRC_ROOT, group="")]
    groups: dict[str, dict] = {}
    sites = []
    info: dict[str, dict] = {}
    for u in units_2025:
        aid = y2024.slug(u["commune_name"])
        if slugs[aid] > 1:
            aid = f"{aid}-{u['commune_code']}"
        matched = resolve(u, olds)
        # whole and "rest of" parts carry their people; "a part of" (size unpublished) carries none:
        # the resolution gives the rest of that commune to another new unit, which counts it whole
        counted = [(p, o) for p, o in matched if p["share"] != "part"]
        pop = sum(o["figure"].population for _, o in counted)
        extra = []
        for new_name, (district, gone) in folded.items():
            if any(populations.key(o["name"]) == populations.key(new_name) and o["district"] == district
                   for _, o in counted):
                gone_fig = next(x for x in olds["Gia Lai"][populations.key(gone)] if x["district"] == district)["figure"]
                pop += gone_fig.population
                extra.append(f"+ {gone} ({gone_fig.population:,}, merged into {new_name} on 1 Nov 2024)")
        district = Counter(o["district"] for _, o in matched).most_common(1)[0][0]
        gid = f"kv-{y2024.slug(district)}"
        province = matched[0][1]["province"]
        groups.setdefault(gid, {"group_id": gid, "name": district, "kind": "Khu vực",
                                "source": f"assumption: the communes formed mostly from the former {province} "
                                          f"district-level unit {district} (a reporting group, not a level)",
                                "members": []})["members"].append(aid)
        lat, lon = (BINH_DINH[district] if province == "Bình Định"
                    else next((v[1], v[2]) for v in y2024.DISTRICTS.values() if y2024.slug(district) == v[0]))
        areas.append(dict(area_id=aid, name=u["commune_name"], kind=u["commune_kind"], parent_id=rid,
                          code=u["commune_code"], lat="", lon="", source=u["source"], group=gid))
        shares = "; ".join(
            f"{'part of ' if p['share'] == 'part' else ''}{o['name']} ({o['district']}): "
            + ("not counted, the size of the part is not published" if p["share"] == "part"
               else f"{o['figure'].population:,} [{o['figure'].basis}]")
            for p, o in matched)
        bases = sorted({o["figure"].basis for _, o in counted})
        src = (f"sum over the units it was formed from (NQ 1664/NQ-UBTVQH15): {shares}"
               + (" " + " ".join(extra) if extra else "")
               + f"; bases: {', '.join(bases)} (census = 2009 census figure scaled to 2019, layer = estimate from "
                 f"the census layer, see data/gia_lai_2025/README.md); assumes the speakers reach the whole unit")
        info[aid] = dict(unit=u, matched=matched, counted=counted, province=province, district=district,
                         lat=lat, lon=lon, pop=pop, pop_src=src)
        old_sites = [sites_2024[code_to_site[o["code"]]] for _, o in counted if o["code"] in code_to_site]
        sites.append(_site(aid, u, info[aid], old_sites))
    for a in areas[1:]:
        a["lat"], a["lon"] = info[a["area_id"]]["lat"], info[a["area_id"]]["lon"]
    return areas, list(groups.values()), sites, info


def _site(aid: str, u: dict, facts: dict, old_sites: list[dict]) -> dict:
    """The new unit's station: languages, profile and technology from the stations it merges
    (Gia Lai, 2024 rules) or from the Bình Định rules above."""
    ward = u["commune_kind"] == "Phường"
    if facts["province"] == "Gia Lai":
        langs = {code for s in old_sites for code in s["languages"].split(";")}
        weights = Counter()
        for s in old_sites:
            weights[s["profile"]] += int(s["population"])
        profile = "urban-ward" if ward else (weights.most_common(1)[0][0] if weights else "lowland-rice")
        if not ward and profile == "urban-ward":
            profile = next((p for p, _ in weights.most_common() if p != "urban-ward"), "lowland-rice")
        tech = "ip" if any(s["technology"] == "ip" for s in old_sites) else ("wired" if ward else "fm")
        why = "the 2024 stations it merges"
    else:
        bahnar = facts["district"] in BD_BAHNAR
        langs = {"vi", "bdq"} if bahnar and not ward else {"vi"}
        profile = "urban-ward" if ward else ("ethnic-village" if bahnar else "lowland-rice")
        tech = "wired" if ward else "fm"
        why = "Bình Định rules of the build script"
    if ward:
        langs = {"vi"}  # urban programmes in Vietnamese, as in 2024
    ordered = ["vi"] + sorted(langs - {"vi"}, key=lambda c: {"jra": 0, "bdq": 1}.get(c, 2))
    market = "" if ward else DAYS[int(u["commune_code"]) % 7]
    group = next((g for g, members in SYNC_GROUPS.items() if aid in members), "")
    prefix = {"Phường": "Phường", "Xã": "Xã"}[u["commune_kind"]]
    return dict(site_id=aid, name=f"{prefix} {u['commune_name']}", area_id=aid, kind="urban" if ward else "rural",
                technology=tech, population=facts["pop"], population_source=facts["pop_src"],
                languages=";".join(ordered), profile=profile, market_days=market, sync_group=group,
                has_station="yes", _why=why)


# --------------------------------------------------------------------------- segments and their scripts

WEEKLY = [
    # id, title, producer (area or group id), scope, seconds-ish paragraphs, source
    ("gia-lai-cchc-tuan", "Chuyên mục cải cách hành chính tỉnh Gia Lai (hằng tuần)", "gia-lai", "", 7, PROVINCE_SOURCE),
    ("quy-nhon-cchc-tuan", "Chuyên mục cải cách hành chính phường Quy Nhơn (hằng tuần)", "quy-nhon", "quy-nhon", 5,
     "Ủy ban nhân dân phường Quy Nhơn (bản mẫu)"),
    ("phu-tuc-cchc-tuan", "Chuyên mục cải cách hành chính xã Phú Túc (hằng tuần)", "phu-tuc", "phu-tuc", 6,
     "Ủy ban nhân dân xã Phú Túc (bản mẫu)"),
]
# the 2024 Jrai/Bahnar stand-ins, reused for the communes of the same former districts
STANDINS = [
    # id, title, producer, scope (group), min, max, priority, note
    ("krong-pa-cchc-jrai", "Chuyên mục cải cách hành chính tiếng Jrai – khu vực Krông Pa", "phu-tuc", "kv-krong-pa",
     5, 5, 5, "STAND-IN AUDIO reused from data/gia_lai_2024 (it names the former district): replace with the Jrai recording"),
    ("duc-co-cchc-jrai", "Chương trình cải cách hành chính tiếng Jrai – khu vực Đức Cơ", "kv-duc-co", "kv-duc-co",
     1, 2, 4, "STAND-IN AUDIO reused from data/gia_lai_2024 (it names the former district): replace with the Jrai recording"),
    ("kong-chro-cchc-bahnar", "Chương trình cải cách hành chính tiếng Bahnar – khu vực Kông Chro", "kong-chro",
     "kv-kong-chro", 1, 1, 5, "STAND-IN AUDIO reused from data/gia_lai_2024 (it names the former district): replace with the Bahnar recording"),
]


def weekly_script(title: str, maker: str, n: int, idx: int) -> tuple[str, int]:
    """A weekly programme from the 2024 pool of generic, true paragraphs (no local claim)."""
    lines = ["Kính thưa bà con!", f"{maker} xin gửi tới bà con chuyên mục Cải cách hành chính phát hằng tuần.",
             "Từ ngày 1 tháng 7 năm 2025, chính quyền địa phương có hai cấp: tỉnh và xã, phường. "
             "Mọi thủ tục hành chính của bà con được tiếp nhận tại Trung tâm phục vụ hành chính công của xã, phường "
             "hoặc trên Cổng Dịch vụ công quốc gia."]
    picks = y2024.pool_picks(idx, n)
    for p in picks:
        lines.append(y2024.POOL[p][1].format(dpre="tỉnh", dname="Gia Lai"))
    lines.append(f"{title} phát hằng tuần trên hệ thống truyền thanh cơ sở. Cảm ơn bà con đã lắng nghe.")
    text = "\n".join(lines).replace(", thị trấn", "").replace("lên huyện", "lên xã") + "\n"
    assert "huyện" not in text, text
    return text, y2024.POOL[picks[0]][0]


def build_segments(sites: list[dict]) -> list[dict]:
    segs = []
    for sid, title, topic, mn, mx, prio, vf, vt, scope in y2024.NATIONAL:
        if sid in DROPPED_NATIONAL:
            continue
        assert not scope, sid
        segs.append(dict(segment_id=sid, title=title, topic=topic, language="vi", audio=f"audio/{sid}.ogg",
                         min_plays=mn, max_plays=mx, priority=prio, valid_from=vf, valid_to=vt, scope="",
                         min_gap_min="", source=PROVINCE_SOURCE, note="audio copied from data/gia_lai_2024",
                         producer="gia-lai"))
    names = {s["site_id"]: s["name"] for s in sites}
    for idx, (sid, title, producer, scope, n, source) in enumerate(WEEKLY):
        maker = ("Sở Văn hóa, Thể thao và Du lịch tỉnh Gia Lai" if producer == "gia-lai"
                 else f"Ủy ban nhân dân {names[producer][0].lower()}{names[producer][1:]}")
        text, topic = weekly_script(title, maker, n, idx + 3)
        y2024.write_text(OUT / "scripts" / f"{sid}.txt", "# generated by data/build_gia_lai_2025.py – edit the pool in build_gia_lai_2024.py\n" + text)
        segs.append(dict(segment_id=sid, title=title, topic=topic, language="vi", audio=f"audio/{sid}.ogg",
                         min_plays=1, max_plays=2, priority=4, valid_from="", valid_to="", scope=scope,
                         min_gap_min=2880, source=source, producer=producer,
                         note="sample text synthesised with espeak-ng; replace with the producer's own recording"))
    for sid, title, producer, scope, mn, mx, prio, note in STANDINS:
        lang = "bdq" if sid.endswith("bahnar") else "jra"
        # the 2024 item's content area (II.n), so both datasets file the same recording alike
        topic = next(t[2] for t in y2024.STANDINS if t[0] == sid)
        segs.append(dict(segment_id=sid, title=title, topic=topic,
                         language=lang, audio=f"audio/{sid}.ogg", min_plays=mn, max_plays=mx, priority=prio,
                         valid_from="", valid_to="", scope=scope, min_gap_min="",
                         source=f"{'Ủy ban nhân dân ' + names[producer] if producer in names else 'Khu vực Đức Cơ (các xã)'}",
                         note=note, producer=producer))
    return segs


def copy_audio(segs: list[dict]) -> None:
    """The 2024 files this dataset reuses, copied byte for byte (git keeps one blob)."""
    (OUT / "audio").mkdir(parents=True, exist_ok=True)
    for s in segs:
        src = Y2024 / s["audio"]
        if src.exists() and not (OUT / "scripts" / f"{s['segment_id']}.txt").exists():
            shutil.copyfile(src, OUT / s["audio"])


# --------------------------------------------------------------------------- the other files


def build_blackouts() -> bytes:
    cal = y2024.icalendar.Calendar()
    cal.add("prodid", "-//loa//Gia Lai 2025 blackouts//VI")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Gia Lai 2025 – ngừng phát thanh")
    stamp = datetime(2025, 1, 1, 0, 0, tzinfo=y2024.ZoneInfo("UTC"))
    ev = y2024.icalendar.Event()
    ev.add("uid", "quy-nhon-2025-11-25-bao-duong@loa.gia-lai-2025")
    ev.add("dtstamp", stamp)
    ev.add("summary", "Bảo dưỡng hệ thống truyền thanh phường Quy Nhơn (ví dụ)")
    ev.add("dtstart", datetime(2025, 11, 25, 13, 0, tzinfo=y2024.TZ))
    ev.add("dtend", datetime(2025, 11, 25, 16, 30, tzinfo=y2024.TZ))
    ev.add("description", "Sample maintenance window in the demo week 2025-W48 (invented); it ends before the "
                          "provincial news at 17:00.")
    ev.add("x-loa-scope", "quy-nhon")
    cal.add_component(ev)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    return cal.to_ical()


DATASET_TOML = '''# The bundled 2025 dataset of `loa`: Gia Lai province (with the former Bình Định) since 1 July 2025.
# Built by data/build_gia_lai_2025.py; what is official, estimated and assumed: README.md.
name = "Gia Lai 2025"
country = "VN"
description = """\\
Commune loudspeaker systems of the new Gia Lai province (Gia Lai and Bình Định merged, two tiers \\
since 1 July 2025): 135 communes and wards (Resolution 1664/NQ-UBTVQH15), one station per new unit, \\
grouped for reporting by the former district-level units. Programmes are made by the province \\
(Sở VHTTDL) or by the communes themselves. Units and codes are official; populations are sums \\
over the former communes (census figures and estimates, per row); stations, languages, profiles, \\
relay times and PAR audio are estimates or samples as in Gia Lai 2024."""
sources = [
  "Resolution 1664/NQ-UBTVQH15 (16 Jun 2025) on Gia Lai's commune-level units, via github:dvhcvn/20250701; codes: Công văn 1027/CTK-CSCL (25 Jun 2025); see data/sources/gia_lai_2025_communes.csv",
  "2009 census per commune (citypopulation.de), 2019 census district totals, the census layer of github:LucieContamin/censusVN2009: see data/gia_lai_2025/README.md",
  "Relays, profiles and policy of data/gia_lai_2024 (see its README)",
]
'''


def main() -> int:
    units_2025 = _read(SOURCES / "gia_lai_2025_communes.csv")
    assert len(units_2025) == 135, len(units_2025)
    (OUT / "scripts").mkdir(parents=True, exist_ok=True)
    areas, groups, sites, _info = build(units_2025)
    segs = build_segments(sites)
    copy_audio(segs)
    y2024.write_csv(OUT / "areas.csv", ["area_id", "name", "kind", "parent_id", "code", "lat", "lon", "source", "group"],
                    areas)
    y2024.write_csv(OUT / "groups.csv", ["group_id", "name", "kind", "source", "note"],
                    [dict(g, note=f"{len(g['members'])} communes/wards: {', '.join(g['members'])}") for g in groups])
    y2024.write_csv(OUT / "sites.csv", ["site_id", "name", "area_id", "kind", "technology", "population",
                                        "population_source", "languages", "profile", "market_days", "sync_group",
                                        "has_station"], sites)
    y2024.write_csv(OUT / "segments.csv", ["segment_id", "title", "topic", "language", "audio", "min_plays",
                                           "max_plays", "priority", "valid_from", "valid_to", "scope",
                                           "min_gap_min", "source", "note", "producer", "level"], segs)
    for name in ("relays.csv", "profiles.toml"):
        shutil.copyfile(Y2024 / name, OUT / name)
    policy = (Y2024 / "policy.toml").read_text(encoding="utf-8")
    policy = policy.replace("# Broadcast rules and objective weights for the Gia Lai 2024 dataset.",
                            "# Broadcast rules and objective weights for the Gia Lai 2025 dataset: those of Gia Lai 2024\n"
                            "# (written by data/build_gia_lai_2025.py from data/gia_lai_2024/policy.toml).")
    assert "[area.krong-pa]" in policy
    policy = policy.replace("[area.krong-pa]", "[group.kv-krong-pa]    # the communes formed from the former Krông Pa district")
    y2024.write_text(OUT / "policy.toml", policy)
    y2024.write_text(OUT / "dataset.toml", DATASET_TOML)
    tmp = OUT / "blackouts.ics.tmp"
    tmp.write_bytes(build_blackouts())
    tmp.replace(OUT / "blackouts.ics")
    basis = Counter(s["population_source"].count("[census]") > 0 for s in sites)
    print(f"areas {len(areas)}, groups {len(groups)}, sites {len(sites)} (population {sum(s['population'] for s in sites):,}),"
          f" segments {len(segs)} -> {OUT}; {basis}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
