"""Languages of the portal: simplified Chinese (the source text) and English (a Babel catalog).

Templates and page code are written in Chinese; ``locale/en/LC_MESSAGES/messages.po`` holds the
English. The catalog is compiled in memory when the portal is installed (``.mo`` files are not
kept in the repository and the package directory need not be writable). The language of a request
is ``?lang=`` (which the page then remembers in the ``lang`` cookie), else the ``lang`` cookie, else
``settings.default_locale``.

Updating the catalog after adding text (``babel.cfg`` is at the repository root)::

    .venv/bin/pybabel extract -F babel.cfg -o /tmp/messages.pot src
    .venv/bin/pybabel update -i /tmp/messages.pot -d src/govshare/portal/locale -l en --no-fuzzy-matching

then translate the new ``msgstr`` entries (``tests/portal/test_i18n_catalog.py`` fails until
every message has its English).
"""

from __future__ import annotations

import gettext as _gettext
import io
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request

from govshare.core.config import get_settings

LANGS = ("zh", "en")
LANG_COOKIE = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
HTML_LANG = {"zh": "zh-Hans", "en": "en"}


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang``; Chinese is the source text and needs none."""
    if lang == "zh":
        return NullTranslations()
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out, as msgfmt does
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def load_all() -> None:
    """Compile every catalog now, so a broken ``.po`` fails at start-up rather than on a page."""
    for lang in LANGS:
        translations(lang)


def default_lang() -> str:
    return "en" if get_settings().default_locale.lower().startswith("en") else "zh"


def requested_lang(request: Request) -> str | None:
    """The language asked for in the query string (``?lang=en``), if a known one."""
    q = request.query_params.get(LANG_COOKIE)
    return q if q in LANGS else None


def lang_of(request: Request) -> str:
    return requested_lang(request) or _cookie_lang(request) or default_lang()


def _cookie_lang(request: Request) -> str | None:
    c = request.cookies.get(LANG_COOKIE)
    return c if c in LANGS else None


def gettext_for(lang: str) -> Callable[..., str]:
    """``_`` for Python code: ``_("至少 %(n)s 个字符", n=2)``."""
    t = translations(lang)

    def _(message: str, **variables: object) -> str:
        text = t.gettext(message)
        return text % variables if variables else text

    return _


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the no-op marker
    """Mark text for extraction; it is translated where it is shown."""
    return message


def pick(pair: tuple[str, str], lang: str) -> str:
    """The right half of a (Chinese, English) pair, as the rules modules keep their names; English
    names start with a capital when shown on their own."""
    return upper_first(pair[1]) if lang == "en" else pair[0]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def split_bilingual(text: str, lang: str) -> str:
    """``"中文 / English"`` messages (validators, service details): the half in ``lang``."""
    if " / " not in text:
        return text
    zh, _sep, en = text.partition(" / ")
    return en.strip() if lang == "en" else zh.strip()


_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """Chinese numerals for 0-99, as article numbers are written (第三十条)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


_ARTICLE_RE = re.compile(r"^Art\.?\s*(\d{1,2})(.*)$")


def article_label(article: str | None, lang: str) -> str:
    """``"Art 30"`` as 《办法》第三十条 in Chinese, "Art 30 of the Measures" in English."""
    if not article:
        return ""
    m = _ARTICLE_RE.match(article.strip())
    if m is None:
        return article
    if lang == "en":
        return f"Art {m.group(1)}{m.group(2)} of the Measures"
    return f"《办法》第{zh_number(int(m.group(1)))}条{m.group(2)}"
