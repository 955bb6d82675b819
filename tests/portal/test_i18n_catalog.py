"""The English catalog covers every message of the pages, and its placeholders match the source."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from govshare.portal import i18n

ROOT = Path(__file__).resolve().parents[2]
HOW_TO = "update the catalog as the docstring of govshare/portal/i18n.py says"


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / "src"), method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog():
    with i18n.po_path("en").open("rb") as f:
        return read_po(f, locale="en")


def test_every_page_message_has_its_english():
    messages = _extracted()
    assert len(messages) > 100  # the extraction itself works (templates and page code)
    catalog = _catalog()
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not missing, f"messages without English ({HOW_TO}):\n  " + "\n  ".join(missing)
    assert not fuzzy, "fuzzy translations are not used; check and unmark them:\n  " + "\n  ".join(fuzzy)


def test_placeholders_match():
    placeholder = re.compile(r"%\((\w+)\)s")
    wrong = [
        m.id
        for m in _catalog()
        if m.id and m.string and sorted(placeholder.findall(m.id)) != sorted(placeholder.findall(m.string))
    ]
    assert not wrong, "translations whose %(name)s placeholders differ from the source:\n  " + "\n  ".join(wrong)


def test_catalog_compiles_and_translates():
    i18n.translations.cache_clear()
    assert i18n.gettext_for("en")("工作台") == "Console"
    assert i18n.gettext_for("en")("至少 %(n)s 个字符", n=2) == "At least 2 characters"
    assert i18n.gettext_for("zh")("至少 %(n)s 个字符", n=2) == "至少 2 个字符"


def test_article_labels():
    assert i18n.article_label("Art 30", "zh") == "《办法》第三十条"
    assert i18n.article_label("Art 5", "zh") == "《办法》第五条"
    assert i18n.article_label("Art 13", "zh") == "《办法》第十三条"
    assert i18n.article_label("Art 33(2)", "zh") == "《办法》第三十三条(2)"
    assert i18n.article_label("Art 30", "en") == "Art 30 of the Measures"


def test_no_message_is_translated_twice():
    """Babel keeps one of two entries with the same source text without a word; one text, one entry."""
    ids = re.findall(r'^msgid "(.+)"$', i18n.po_path("en").read_text(encoding="utf-8"), flags=re.M)
    twice = sorted({m for m in ids if ids.count(m) > 1})
    assert not twice, "messages with two entries in the catalog:\n  " + "\n  ".join(twice)
