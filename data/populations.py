"""Commune populations for the bundled datasets, from the public figures in data/sources/.

Used by build_gia_lai_2024.py and build_gia_lai_2025.py; every figure says where it comes from.

Method for the 220 Gia Lai units of 2024 (README of data/gia_lai_2024 explains it):
  population = the district's 2019 census total x the unit's share of its district, where the
  share comes from the best commune-level figure found:
  1. the 2009 census per commune (citypopulation.de, "Gia Lai Province: Districts and Communes",
     the part of the page that was available: An Khê, Ayun Pa, Chư Păh, Chư Prông, 6 units of Chư Pưh);
  2. else the commune population attribute of the census layer of github:LucieContamin/censusVN2009
     (data/communes.rda; documented there as the 2009 census, but its Gia Lai district sums match
     neither census: an older vintage), used only as the unit's share of its district;
  3. else an estimate named in `ESTIMATES` (a unit created after those figures).
  The district total is its 2019 census figure where found (gia_lai_2019_district_population.csv),
  else the rest of the province's 2019 total (1,513,847) split by the 2009 census district totals.
Bình Định's communes (for the 2025 dataset): the census layer's figure as it is (no commune or
district figure of a census was found), said so per row.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

GIA_LAI_2019 = 1_513_847  # 2019 census, province total (quoted with the district table, see sources)
SRC_CITYPOP = ("2009 census {value:,} (citypopulation.de/en/vietnam/gialai/admin, 'Districts and Communes', "
               "last census)")
SRC_LAYER = ("commune population {value:,} of the census layer github:LucieContamin/censusVN2009 "
             "data/communes.rda@d9a36767d5bdeb53d76d4497805cc07a4dbbe50c (older vintage)")
SRC_2009_DISTRICT = "2009 census district totals (vi.wikipedia.org 'Gia Lai', table of districts)"

_VOWEL_TONES = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy",
                "uỹ": "ũy", "uỵ": "ụy", "oè": "òe", "oé": "óe"}
_PREFIXES = ("thị trấn ", "thị xã ", "thành phố ", "huyện ", "phường ", "xã ")
# names written differently in the layer and the 2024 list (same unit, same district)
ALIASES = {
    "hra": "hàra", "dakkơning": "kơning",
    # the 2025 resolution's spelling -> the 2024 list's (same unit)
    "chưdangya": "chưdăngya", "iadrang": "iadrăng", "kôngbơla": "kôngpla", "dakrong": "dakroong",
    "chưkrey": "chưkrêy", "chơglong": "chơlong", "iamrơn": "iamarơn", "iatrôk": "iatrok", "iamlah": "iamláh",
    "iadreh": "iahdreh", "iakrái": "iakrai",
}


def key(name: str) -> str:
    """A unit or district name for matching: NFC, lower case, no kind prefix, tones placed one
    way, Đăk/Đắk/Đak alike, no spaces or apostrophes."""
    text = unicodedata.normalize("NFC", name).strip().lower()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    for old, new in _VOWEL_TONES.items():  # only where the syllable ends: "hoà" but not "hoài"
        text = re.sub(old + r"(?![a-zà-ỹ])", new, text)
    text = text.replace("đ", "d").replace("dắk", "dak").replace("dăk", "dak")
    text = "".join(c for c in text if c not in " '’‘-")
    return ALIASES.get(text, text)


@dataclass(frozen=True)
class Figure:
    population: int
    source: str
    basis: str  # "census" (a census figure for this unit), "layer" (its share in the census layer), "estimate"


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# The census layer extracted from a fetched repository (github:LucieContamin/censusVN2009) is data
# from a snapshot: it lives in the steering repository's shared/data, never in this repository.
LAYER = Path(__file__).resolve().parents[2] / "shared" / "data" / "commune_population_layer.csv"


def layer(province: str) -> dict[tuple[str, str], int]:
    """(district key, commune key) -> population of the census layer, for one province."""
    out = {}
    for r in _read(LAYER):
        if r["province"] == province and int(r["population"]) > 0:
            out[(key(r["district"]), key(r["commune"]))] = int(r["population"])
    return out


def gia_lai_2024(sources: Path, units: list[dict]) -> dict[str, Figure]:
    """commune_code -> Figure for the 220 units of gia_lai_2024_units.csv."""
    census = {(key(r["district"]), key(r["commune"])): int(r["population_2009"])
              for r in _read(sources / "gia_lai_2009_census_communes.csv")}
    old = layer("Gia Lai")
    districts = {r["district_code"]: r for r in _read(sources / "gia_lai_2019_district_population.csv")}

    # district totals for 2019: the census figure, else the province's rest split by 2009 totals
    known = {c: int(r["population_2019"]) for c, r in districts.items() if r["population_2019"]}
    rest = GIA_LAI_2019 - sum(known.values())
    base_2009 = sum(int(r["population_2009"]) for c, r in districts.items() if c not in known)
    totals: dict[str, tuple[int, str]] = {}
    for code, r in districts.items():
        if code in known:
            totals[code] = (known[code], f"{r['district']} 2019 total {known[code]:,}: {r['source_2019']}")
        else:
            value = round(rest * int(r["population_2009"]) / base_2009)
            totals[code] = (value, f"{r['district']} 2019 total estimated {value:,}: the province's 2019 total "
                                   f"{GIA_LAI_2019:,} less the districts with a 2019 figure, split by "
                                   f"{SRC_2009_DISTRICT} ({r['district']} {int(r['population_2009']):,})")

    # each unit's weight inside its district, and where it comes from
    weight: dict[str, tuple[float, str, str]] = {}
    by_district: dict[str, list[dict]] = {}
    for u in units:
        by_district.setdefault(u["district_code"], []).append(u)
    for code, members in by_district.items():
        dk = key(members[0]["district_name"])
        missing = []
        for u in members:
            ck = key(u["commune_name"])
            if (dk, ck) in census:
                weight[u["commune_code"]] = (census[(dk, ck)], SRC_CITYPOP.format(value=census[(dk, ck)]), "census")
            elif (dk, ck) in old:
                weight[u["commune_code"]] = (old[(dk, ck)], SRC_LAYER.format(value=old[(dk, ck)]), "layer")
            else:
                missing.append(u)
        for u in missing:
            weight[u["commune_code"]] = _estimate(u, members, census, old, sources)
    out = {}
    for code, members in by_district.items():
        total, total_src = totals[code]
        wsum = sum(weight[u["commune_code"]][0] for u in members)
        for u in members:
            w, w_src, basis = weight[u["commune_code"]]
            value = int(round(total * w / wsum, -1))
            head = ("2009 census figure scaled to 2019" if basis == "census"
                    else "estimate from the census layer" if basis == "layer" else "estimate")
            out[u["commune_code"]] = Figure(value, (
                f"{head}: {total_src}; times this unit's share of its district ({w / wsum:.1%}) from {w_src}; "
                f"assumes the speakers reach the whole unit"), basis)
    return out


def _estimate(u: dict, members: list[dict], census: dict, old: dict, sources: Path) -> tuple[float, str, str]:
    """A unit no commune figure covers: the district's 2009 census total less what the listed
    units hold, less the other unlisted units estimated from the layer (Chư Pưh's Nhơn Hòa)."""
    dk = key(u["district_name"])
    listed = sum(census.get((dk, key(m["commune_name"])), 0) for m in members)
    others = [m for m in members if m is not u and (dk, key(m["commune_name"])) not in census]
    from_layer = sum(old.get((dk, key(m["commune_name"])), 0) for m in others)
    total_2009 = CITYPOP_DISTRICT_2009.get(dk)
    if total_2009 is None:
        raise AssertionError(f"no figure and no estimate rule for {u['district_name']} / {u['commune_name']}")
    value = total_2009 - listed - from_layer
    assert value > 0, (u, value)
    names = ", ".join(m["commune_name"] for m in others)
    return value, (f"estimate {value:,} (2009): {u['district_name']}'s 2009 census total {total_2009:,} "
                   f"(citypopulation.de) less its {len(members) - len(others) - 1} units listed there and "
                   f"the census-layer figures of {names}"), "estimate"


# district totals of the 2009 census as citypopulation.de gives them (its district rows)
CITYPOP_DISTRICT_2009 = {key("Chư Pưh"): 61_406}


def binh_dinh(sources: Path) -> dict[tuple[str, str], Figure]:
    """(district key, commune key) -> Figure for the communes of Bình Định before July 2025."""
    return {k: Figure(v, "estimate from the census layer: " + SRC_LAYER.format(value=v)
                      + ", not scaled (no census figure per commune was found)", "layer")
            for k, v in layer("Bình Định").items()}
