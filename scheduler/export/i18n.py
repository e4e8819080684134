"""Every word a reader sees in reports, charts, HTML pages and calendars, in Vietnamese and English.

One table, so a KPI, a language or a weekday is named the same everywhere (a CSV header, the HTML
page, a chart axis, a calendar event). Vietnamese names of ethnic languages are the official
names of the 54 ethnic groups (Gia Rai, Ba Na); English uses the usual exonyms (Jrai, Bahnar).
"""
from __future__ import annotations

import math
from typing import Mapping

from ..errors import ExportError

LANGS = ("vi", "en")
LANG_PREFIX = "par_min_lang_"  # KPI keys par_min_lang_<code>: PAR minutes in one language

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
    "topics_covered": ("Chủ đề đã phủ (trên 10)", "Topics covered (of 10)"),
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
