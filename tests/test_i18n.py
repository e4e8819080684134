"""One table of words: every label used by reports, charts and pages exists in both languages,
and a language is named the same in a KPI header, a tooltip and a calendar."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from scheduler.errors import ExportError
from scheduler.export import i18n
from scheduler.export.i18n import LABELS, day_name, label, language_name, number

EXPORT = Path(i18n.__file__).parent


def _keys_used() -> set[str]:
    """Keys passed to `label(...)` in the export modules and to `t(...)` in the templates."""
    used = set()
    for path in EXPORT.glob("*.py"):
        used |= set(re.findall(r"""\blabel\(\s*f?["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    for path in (EXPORT / "templates").glob("*.j2"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']\s*\)""", path.read_text(encoding="utf-8")))
    return used


def test_every_key_used_has_both_languages():
    used = _keys_used()
    assert {"report", "heat", "placed", "listener_plays_by_district", "compare_placements"} <= used
    assert used <= set(LABELS), sorted(used - set(LABELS))
    for key, (vi, en) in LABELS.items():
        assert vi and en, key


def test_languages_are_named_once_for_headers_and_text():
    assert (language_name("jra", "vi"), language_name("jra", "en")) == ("tiếng Gia Rai", "Jrai")
    assert (language_name("bdq", "vi"), language_name("bdq", "en")) == ("tiếng Ba Na", "Bahnar")
    assert language_name("xyz", "vi") == "xyz"  # an unknown code is shown as it is
    assert label("par_min_lang_bdq", "vi") == "Phút CCHC – tiếng Ba Na"
    assert label("par_min_lang_bdq", "en") == "PAR minutes – Bahnar"


def test_days_and_numbers_as_people_write_them():
    assert (day_name(0, "vi"), day_name(6, "vi"), day_name(6, "en")) == ("Thứ Hai", "Chủ nhật", "Sunday")
    assert number(1234.5, "vi") == "1.234,5" and number(1234.5, "en") == "1,234.5"
    assert number(7000, "vi") == "7.000" and number(2.0, "en") == "2"
    assert number(float("nan"), "vi") == "–" and number(None, "en") == "–"


def test_an_unknown_report_language_is_refused():
    with pytest.raises(ExportError, match="'fr'"):
        label("report", "fr")
    assert label("no_such_key", "en") == "no_such_key"
