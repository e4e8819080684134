"""Every word a reader sees in reports, charts, HTML pages and calendars, in Vietnamese and English.

One table, so a KPI, a language or a weekday is named the same everywhere (a CSV header, the HTML
page, a chart axis, a calendar event). Vietnamese names of ethnic languages are the official
names of the 54 ethnic groups (Gia Rai, Ba Na); English uses the usual exonyms (Jrai, Bahnar).
"""
from __future__ import annotations

import math
from typing import Mapping

from ..domain import week_days
from ..errors import ExportError

LANGS = ("vi", "en")
LANG_PREFIX = "par_min_lang_"  # KPI keys par_min_lang_<code>: PAR minutes in one language
RELAY_PREFIX = "relay_pct_"  # KPI keys relay_pct_<source>: relays of one source aired in full / due (%)

# The words for the levels of the area tree come from the plan's data (`levels.words`): a
# reporting unit may be a Huyện, a Thành phố, a Cụm or the Tỉnh itself. These stand in for a plan
# that records no kinds (written before plans carried them) and name no level.
DEFAULT_WORDS = {
    "vi": {"unit": "Đơn vị", "unit_lower": "đơn vị", "unit_sheet": "Đơn vị", "kind": "đơn vị",
           "province": "Tỉnh", "province_lower": "tỉnh", "province_sheet": "Tỉnh"},
    "en": {"unit": "Unit", "unit_lower": "unit", "unit_sheet": "Units", "kind": "unit",
           "province": "Province", "province_lower": "province", "province_sheet": "Province"},
}

# key -> (Vietnamese, English); {unit}, {province}, {kind}… are the plan's own level words
LABELS: dict[str, tuple[str, str]] = {
    # KPI columns
    "province": ("{province}", "{province}"),
    "district_id": ("Mã {unit_lower}", "{unit} ID"),
    "district": ("{unit}", "{unit}"),
    "district_kind": ("Loại đơn vị", "Unit kind"),
    "site_id": ("Mã đài", "Site ID"),
    "site": ("Đài truyền thanh", "Site"),
    "sites": ("Số đài", "Sites"),
    "population": ("Dân số", "Population"),
    "par_plays": ("Lượt phát CCHC", "PAR plays"),
    "par_minutes": ("Phút phát CCHC", "PAR minutes"),
    "listener_plays": ("Lượt người nghe dự kiến", "Expected listener-plays"),
    "listener_plays_per_1000": ("Lượt nghe / 1.000 dân", "Listener-plays per 1,000 inhabitants"),
    "required_plays": ("Lượt phát yêu cầu", "Required plays"),
    "required_plays_met": ("Lượt yêu cầu đã đạt", "Required plays met"),
    "required_met_pct": ("Tỷ lệ đạt lượt yêu cầu (%)", "Required plays met (%)"),
    "segments_short": ("Số bài chưa đủ lượt", "Segments short of plays"),
    "mandatory_relays_due": ("Tiếp sóng bắt buộc phải phát", "Mandatory relays due"),
    "mandatory_relays_aired": ("Tiếp sóng bắt buộc đã phát trọn", "Mandatory relays aired in full"),
    "mandatory_relays_pct": ("Tỷ lệ tiếp sóng trọn (%)", "Mandatory relays aired (%)"),
    "topics_covered": ("Số nội dung (mục II) đã phát, trên 10", "Content areas (section II) aired, of 10"),
    LANG_PREFIX: ("Phút CCHC – {}", "PAR minutes – {}"),
    "daily_cap_minutes": ("Giới hạn phút/ngày", "Daily cap (min)"),
    "airtime_day_mean_min": ("Thời lượng TB/ngày (phút)", "Mean airtime per day (min)"),
    "airtime_cap_max_pct": ("Thời lượng/giới hạn, ngày cao nhất (%)", "Airtime vs cap, busiest day (%)"),
    "airtime_cap_mean_pct": ("Thời lượng/giới hạn, trung bình (%)", "Airtime vs cap, mean (%)"),
    "sessions_day_max": ("Số buổi phát/ngày (tối đa)", "Sessions per day (max)"),
    "sessions_day_mean": ("Số buổi phát/ngày (TB)", "Sessions per day (mean)"),
    "gap_pct": ("Khoảng cách tối ưu (%)", "Optimality gap (%)"),
    # workbook sheets, one per KPI level
    "sheet_site": ("Đài", "Sites"),
    "sheet_district": ("{unit_sheet}", "{unit_sheet}"),
    "sheet_province": ("{province_sheet}", "{province_sheet}"),
    # HTML pages
    "report": ("Báo cáo tuyên truyền CCHC", "PAR communication report"),
    "week": ("Tuần", "Week"),
    "kpis": ("Chỉ số", "KPIs"),
    "metric": ("Chỉ số", "KPI"),
    "district_total": ("Toàn {kind}", "Whole {kind}"),
    "districts": ("Theo đơn vị báo cáo: {unit}", "By reporting unit: {unit}"),
    "province_kpis": ("Chỉ số toàn {province_lower}", "{province} KPIs"),
    "back": ("← Mục lục", "← Index"),
    "grid": ("Lịch phát trong tuần", "Weekly schedule"),
    "heat": ("Mức sẵn sàng nghe của người dân và các bài phát", "Audience availability with the placements on top"),
    "no_audience": ("Kế hoạch không có đường sẵn sàng nghe của đài này – bỏ qua bản đồ nhiệt.",
                    "The plan has no availability curve for this site – heatmap skipped."),
    "agenda": ("Danh sách bài phát", "Items aired"),
    "nothing_aired": ("Không có bài phát", "Nothing aired"),
    "relay": ("Tiếp sóng", "Relay"),
    "optional_relay": ("Tiếp sóng không bắt buộc", "Optional relay"),
    "topic": ("Chủ đề", "Topic"),
    "low": ("thấp", "low"),
    "high": ("cao", "high"),
    "placed": ("Bài phát / tiếp sóng", "Placement (item or relay)"),
    # charts
    "availability": ("Đường sẵn sàng nghe và các bài phát", "Availability curve and placements"),
    "listener_plays_by_district": ("Lượt người nghe dự kiến theo {unit_lower}", "Expected listener-plays by {unit}"),
    # who makes the programmes (segments.csv producer)
    "producer": ("Đơn vị sản xuất", "Producer"),
    "producers": ("Bài CCHC theo đơn vị sản xuất", "PAR items by producer"),
    "producer_unknown": ("(không ghi đơn vị sản xuất)", "(no producer given)"),
    "hour": ("giờ", "hour"),
    # plan comparison
    "compare_placements": ("lượt phát: {moved} dời giờ, {added} thêm, {removed} bỏ, {unchanged} giữ nguyên",
                           "placements: {moved} moved, {added} added, {removed} removed, {unchanged} unchanged"),
    "compare_top_sites": ("các đài thay đổi nhiều nhất:", "sites that changed most:"),
    "compare_site_changes": ("{changes} ({moved} dời giờ, {added} thêm, {removed} bỏ)",
                             "{changes} ({moved} moved, {added} added, {removed} removed)"),
    # people reached, topics, relay coverage (kpis.py, report pages)
    "people_reached": ("Số người nghe ít nhất 1 lần (ước tính)", "People reached at least once (estimate)"),
    "people_reached_pct": ("Tỷ lệ dân nghe ít nhất 1 lần (%)", "Share of people reached (%)"),
    "topic_code": ("Mục", "Section"),
    "topic_name": ("Nội dung tuyên truyền", "Content area"),
    "segment_id": ("Mã bài", "Segment ID"),
    "segment": ("Bài phát", "Segment"),
    "sites_aired": ("Số đài đã phát", "Sites airing it"),
    "source": ("Nguồn", "Source"),
    "relays_due": ("Tiếp sóng phải phát", "Relays due"),
    "relays_aired": ("Tiếp sóng đã phát trọn", "Relays aired in full"),
    "relays_pct": ("Tỷ lệ tiếp sóng (%)", "Relays aired (%)"),
    RELAY_PREFIX: ("Tiếp sóng {} (%)", "Relays of {} aired (%)"),
    "sheet_topic": ("Nội dung", "Topics"),
    "sheet_segment": ("Bài phát", "Segments"),
    "sheet_relay": ("Tiếp sóng", "Relays"),
    "sheet_technical": ("Kỹ thuật", "Technical"),
    "objective": ("Hàm mục tiêu", "Objective"),
    "bound": ("Cận trên", "Bound"),
    "technical": ("Thông tin kỹ thuật (cho người lập kế hoạch)", "Technical details (for planners)"),
    "technical_note": ("Khoảng cách tối ưu: phần điểm mục tiêu mà bộ giải chưa chứng minh được là không thể đạt "
                       "thêm; 0% là tối ưu đã chứng minh. Chỉ dùng để đánh giá kế hoạch, không phải chỉ số tuyên truyền.",
                       "Optimality gap: the share of the objective the solver could not prove unreachable; 0% is "
                       "proven optimal. For judging the plan, not a communication KPI."),
    "units": ("Số đơn vị giải", "Units solved"),
    "status": ("Trạng thái", "Status"),
    "topics_section": ("Theo nội dung tuyên truyền (mục II, KH 139/KH-STTTT)",
                       "By content area (section II of plan 139/KH-STTTT)"),
    "relays_section": ("Tiếp sóng theo nguồn", "Relays by source"),
    "reach_note": ("Số người nghe ít nhất 1 lần = dân số × (1 − tích các (1 − tỷ lệ sẵn sàng nghe) của từng lượt "
                   "phát), giả định mỗi lượt phát được nghe độc lập với các lượt khác; là ước tính trần.",
                   "People reached at least once = population × (1 − product of (1 − availability share) over "
                   "the plays), assuming each play is heard independently of the others; an upper estimate."),
}

LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "vi": ("tiếng Việt", "Vietnamese"),
    "jra": ("tiếng Gia Rai", "Jrai"),
    "bdq": ("tiếng Ba Na", "Bahnar"),
    "en": ("tiếng Anh", "English"),
}

DAY_NAMES = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def check_lang(lang: str) -> int:
    """Index of `lang` in the table; an unknown language is the caller's error, said plainly."""
    if lang not in LANGS:
        raise ExportError(f"unknown report language {lang!r}; use 'vi' or 'en'")
    return LANGS.index(lang)


def language_name(code: str, lang: str = "vi") -> str:
    """'jra' -> 'tiếng Gia Rai' / 'Jrai'; an unknown code is shown as it is."""
    names = LANGUAGE_NAMES.get(code)
    return names[check_lang(lang)] if names else code


class _Keep(dict):
    """Fills the level words a label names and leaves other fields ({moved}…) for the caller."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def label(key: str, lang: str = "vi", words: Mapping[str, str] | None = None) -> str:
    """What a reader sees for a KPI column or a page word; an unknown key is shown as it is.

    `words` are the plan's level words (`levels.words`); without them a label names no level."""
    i = check_lang(lang)
    if key.startswith(LANG_PREFIX) and key != LANG_PREFIX:
        return LABELS[LANG_PREFIX][i].format(language_name(key[len(LANG_PREFIX):], lang))
    if key.startswith(RELAY_PREFIX) and key != RELAY_PREFIX:
        return LABELS[RELAY_PREFIX][i].format(key[len(RELAY_PREFIX):])
    if key not in LABELS:
        return key
    return LABELS[key][i].format_map(_Keep({**DEFAULT_WORDS[lang], **(words or {})}))


def day_name(weekday: int, lang: str = "vi") -> str:
    """0 = Monday .. 6 = Sunday."""
    check_lang(lang)
    return DAY_NAMES[lang][weekday]


def number(value, lang: str = "vi") -> str:
    """A KPI value as people write it: 1.234,5 in Vietnamese, 1,234.5 in English; '–' if unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):
        return value
    check_lang(lang)
    f = float(value)
    text = f"{f:,.0f}" if f.is_integer() else f"{f:,.2f}".rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text


# --------------------------------------------------------------------------- the plan's ten content areas

# Section II of plan No. 139/KH-STTTT (Gia Lai, 29/12/2023): topic n of a segment is content area II.n.
TOPIC_NAMES: dict[int, tuple[str, str]] = {
    1: ("Tầm quan trọng, mục tiêu của CCHC; Chương trình tổng thể CCHC 2021–2030",
        "Importance and goals of PAR; the 2021–2030 master programme"),
    2: ("Quan điểm, chủ trương của Đảng, chính sách pháp luật của Nhà nước về CCHC",
        "Party and State policy and law on PAR"),
    3: ("Vai trò, trách nhiệm của cấp ủy, người đứng đầu",
        "Role and responsibility of Party committees and leaders"),
    4: ("Thể chế, bộ máy, thủ tục hành chính, một cửa, công vụ, các chỉ số, chính quyền điện tử",
        "Institutions, apparatus, procedures, one-stop shop, civil service, indices, e-government"),
    5: ("Kết quả, tồn tại, hạn chế và nguyên nhân", "Results, shortcomings and their causes"),
    6: ("Mô hình, điển hình tốt trong CCHC", "Pilot models and good practice"),
    7: ("Quan hệ Nhà nước – Nhân dân; quyền tham gia, giám sát CCHC",
        "State–citizen relations; citizens' right to take part in and monitor PAR"),
    8: ("Đổi mới tư duy, lề lối làm việc; chuyển đổi số trong cơ quan nhà nước",
        "New thinking and working methods; digital transformation of state agencies"),
    9: ("Địa chỉ, đường dây nóng tiếp nhận phản ánh, kiến nghị; thái độ của cán bộ",
        "Addresses and hotlines for feedback on procedures; conduct of officials"),
    10: ("Nội dung khác theo nhiệm vụ trọng tâm hằng năm, văn bản mới",
         "Other content of the year's key tasks; new legal documents"),
}


def topic_code(topic: int | None) -> str:
    """'II.4' for topic 4 (section II of the plan); '' when the item has no topic."""
    return f"II.{topic}" if topic is not None else ""


def topic_name(topic: int | None, lang: str = "vi") -> str:
    """The content area's name; an unknown number is shown as its code."""
    i = check_lang(lang)
    names = TOPIC_NAMES.get(topic) if topic is not None else None
    return names[i] if names else topic_code(topic)


# --------------------------------------------------------------------------- weeks and dayparts

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def week_title(week: str, lang: str = "vi") -> str:
    """'2024-W10' -> 'Tuần 10 (04–10/3/2024)' / 'Week 10 (4–10 Mar 2024)'; spans months and years too."""
    check_lang(lang)
    days = week_days(week)
    first, last = days[0], days[-1]
    num = first.isocalendar().week
    if lang == "en":
        if first.year != last.year:
            span = f"{first.day} {_MONTHS_EN[first.month - 1]} {first.year}–{last.day} {_MONTHS_EN[last.month - 1]} {last.year}"
        elif first.month != last.month:
            span = f"{first.day} {_MONTHS_EN[first.month - 1]}–{last.day} {_MONTHS_EN[last.month - 1]} {last.year}"
        else:
            span = f"{first.day}–{last.day} {_MONTHS_EN[last.month - 1]} {last.year}"
        return f"Week {num} ({span})"
    if first.year != last.year:
        span = f"{first:%d}/{first.month}/{first.year}–{last:%d}/{last.month}/{last.year}"
    elif first.month != last.month:
        span = f"{first:%d}/{first.month}–{last:%d}/{last.month}/{last.year}"
    else:
        span = f"{first:%d}–{last:%d}/{last.month}/{last.year}"
    return f"Tuần {num} ({span})"


# the four parts of a day people name a broadcast session (buổi phát) by, from their first minute
DAYPARTS: tuple[tuple[int, str, str], ...] = (
    (0, "sáng", "morning"), (10 * 60 + 30, "trưa", "noon"), (13 * 60 + 30, "chiều", "afternoon"),
    (18 * 60, "tối", "evening"))


def daypart(minute: int, lang: str = "vi", window_name: str | None = None) -> str:
    """'sáng', 'trưa', 'chiều' or 'tối' for a session starting at `minute` of the day.

    A window named with one of these words (as a station names its windows: "sáng", "Buổi
    trưa") gives its name; otherwise the clock decides: before 10:30 morning, before 13:30 noon,
    before 18:00 afternoon, then evening.
    """
    i = check_lang(lang)
    if window_name:
        word = window_name.strip().lower().removeprefix("buổi ").strip()
        for _, vi, en in DAYPARTS:
            if word == vi:
                return (vi, en)[i]
    name = DAYPARTS[0][1:]
    for start, vi, en in DAYPARTS:
        if minute >= start:
            name = (vi, en)
    return name[i]
