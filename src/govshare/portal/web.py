"""Shared page helpers: templates, rendering, CSRF protection of forms, form errors.

Every domain's ``pages.py`` renders with :func:`render`; templates live in
``govshare/<domain>/templates/`` and are named ``"<domain>/<file>.html"`` (the portal's own,
``base.html`` and ``forms.html``, need no prefix). Every page ``POST`` takes its form from
:data:`CsrfForm`, which answers 403 unless the form carries the right token:

* signed in with the portal cookie: the session's own token (``Principal.csrf_token``);
* otherwise (the login form): a signed pre-session token, the HMAC under ``settings.secret_key``
  of a random nonce kept in the ``govshare_csrf`` cookie (a "signed double-submit cookie"), so a
  foreign site cannot log a visitor in under its own account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlalchemy.orm import Session, SessionTransaction
from starlette.datastructures import FormData

import govshare
from govshare.core import clock
from govshare.core.auth import Principal, authenticate
from govshare.core.config import get_settings
from govshare.core.db import SessionDep
from govshare.core.errors import DomainError, Forbidden
from govshare.core.security import same
from govshare.portal import i18n

PORTAL_DIR = Path(__file__).parent
STATIC_DIR = PORTAL_DIR / "static"
CSRF_FIELD = "csrf_token"
PRESESSION_COOKIE = "govshare_csrf"
PRESESSION_MAX_AGE = 7 * 24 * 3600

#: Headers of every rendered page: no caching of pages that carry tokens, no framing, no foreign
#: scripts (the portal has none at all).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


# --- Secret key ---------------------------------------------------------------------------------

_key_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


def secret_key() -> bytes:
    """``settings.secret_key``, else the key in ``var_dir/secret_key`` (created 0600 on first use).

    The file is written under a temporary name and hard-linked into place, so concurrent workers
    starting together all end up with the same key.
    """
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.var_dir) / "secret_key"
    with _key_lock:
        if path in _keys:
            return _keys[path]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_hex(32).encode())
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no usable secret key; delete it to have a new one made")
        _keys[path] = key
        return key


# --- CSRF ---------------------------------------------------------------------------------------


def _presession_token(nonce: str) -> str:
    return hmac.new(secret_key(), b"govshare-presession-csrf\x00" + nonce.encode(), hashlib.sha256).hexdigest()


def _nonce_cookie(request: Request) -> str | None:
    nonce = request.cookies.get(PRESESSION_COOKIE)
    if nonce and 16 <= len(nonce) <= 128 and nonce.isascii():
        return nonce
    return None


def _principal(request: Request) -> Principal | None:
    return request.scope.get("state", {}).get("principal")


def csrf_token(request: Request) -> str:
    """The token a form on this page must carry back (see the module docstring)."""
    principal = _principal(request)
    if principal is not None and principal.via == "cookie" and principal.csrf_token:
        return principal.csrf_token
    nonce = _nonce_cookie(request) or getattr(request.state, "new_csrf_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(32)
        request.state.new_csrf_nonce = nonce  # render() sets the cookie on the response
    return _presession_token(nonce)


def _expected_token(request: Request, principal: Principal | None) -> str | None:
    if principal is not None and principal.via == "cookie":
        return principal.csrf_token
    nonce = _nonce_cookie(request)
    return _presession_token(nonce) if nonce else None


async def csrf_form(request: Request, session: SessionDep) -> FormData:
    """The submitted form, once its CSRF token is checked: 403 on a missing or wrong token."""
    form = await request.form()
    principal = await run_in_threadpool(authenticate, request, session)
    sent = form.get(CSRF_FIELD)
    expected = _expected_token(request, principal)
    if not isinstance(sent, str) or not expected or not same(sent, expected):
        raise Forbidden(
            "portal.csrf_invalid",
            "表单已失效或并非来自本站，请刷新页面后重新提交",
            "The form has expired or did not come from this site; reload the page and submit it again",
            field=CSRF_FIELD,
        )
    return form


#: A page ``POST``'s form, checked against CSRF. Every page form handler takes one of these.
CsrfForm = Annotated[FormData, Depends(csrf_form)]


# --- Templates ----------------------------------------------------------------------------------


def _domain_template_dirs() -> dict[str, str]:
    root = Path(govshare.__file__).parent
    return {d.name: str(d / "templates") for d in sorted(root.iterdir()) if d.is_dir() and (d / "templates").is_dir()}


@lru_cache
def environment(lang: str) -> Environment:
    """One Jinja2 environment per language, with that language's catalog installed."""
    loader = ChoiceLoader(
        [
            FileSystemLoader(str(PORTAL_DIR / "templates")),
            PrefixLoader({name: FileSystemLoader(path) for name, path in _domain_template_dirs().items()}),
        ]
    )
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        pick=lambda pair: i18n.pick(pair, lang),
        article_label=lambda a: i18n.article_label(a, lang),
        platform_version=govshare.__version__,
    )
    return env


def url_with(request: Request, **params: Any) -> str:
    """This page's path and query with ``params`` replaced (``None`` removes one)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return request.url.path + ("?" + urlencode(query) if query else "")


def page_context(request: Request, lang: str) -> dict[str, Any]:
    principal = _principal(request)

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="%s" value="%s">') % (CSRF_FIELD, escape(csrf_token(request)))

    return {
        "request": request,
        "principal": principal,
        "signed_in": principal is not None and principal.kind == "person",
        "can_logout": principal is not None and principal.via == "cookie",
        "csrf_field": csrf_field,
        "other_lang": "en" if lang == "zh" else "zh",
        "lang_url": lambda code: url_with(request, lang=code),
        "url_with": lambda **kw: url_with(request, **kw),
        "path": request.url.path,
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page in the request's language, with the headers every page carries."""
    lang = i18n.lang_of(request)
    ctx = page_context(request, lang)
    ctx.update(context or {})
    html = environment(lang).get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
    settings = get_settings()
    requested = i18n.requested_lang(request)
    if requested and request.cookies.get(i18n.LANG_COOKIE) != requested:
        response.set_cookie(
            i18n.LANG_COOKIE,
            requested,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=settings.cookie_secure,
            path="/",
        )
    nonce = getattr(request.state, "new_csrf_nonce", None)
    if nonce:
        response.set_cookie(
            PRESESSION_COOKIE,
            nonce,
            max_age=PRESESSION_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
            path="/",
        )
    return response


def translator(request: Request) -> Any:
    """``_`` in the request's language, for text built in page code."""
    return i18n.gettext_for(i18n.lang_of(request))


# --- Forms --------------------------------------------------------------------------------------


class FormChange:
    """A form's change, all or nothing: "show the errors on the form, change nothing".

    ::

        change = FormChange(session, lang, fields=FIELDS, errors=errors)
        with change:
            agency = service.create_agency(session, data, by=by)
        if change.ok:
            return RedirectResponse(...)
        return render(..., {"errors": errors, "form_error": change.form_error}, status_code=change.status)

    The block runs in a savepoint. A refusal from the service (a :class:`DomainError`) or from a
    schema (a Pydantic ``ValidationError``) rolls the savepoint back, so nothing of the change stays
    while the request's transaction (and whatever it read) carries on to render the form again; the
    error goes next to its field when the form has it (``place`` may map fields differently), else to
    ``form_error`` for the top of the form. ``Forbidden`` is not a form error: acting outside one's
    scope gets the 403 page, and propagates. Any other exception propagates too.
    """

    def __init__(
        self,
        session: Session,
        lang: str,
        *,
        fields: Sequence[str],
        errors: dict[str, str],
        place: Callable[[DomainError], str | None] | None = None,
    ) -> None:
        self.session = session
        self.lang = lang
        self.fields = tuple(fields)
        self.errors = errors
        self.place = place
        self.ok = False
        self.form_error: str | None = None
        self.status = 200
        self._savepoint: SessionTransaction | None = None

    def __enter__(self) -> FormChange:
        self._savepoint = self.session.begin_nested()
        self._savepoint.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        assert self._savepoint is not None
        # The savepoint's own exit releases it, or rolls it back (also after a failed flush).
        self._savepoint.__exit__(kind, exc, tb)
        if exc is None:
            self.ok = True
            return False
        if isinstance(exc, ValidationError):
            self.errors.update(field_errors_from_validation(exc, self.lang))
        elif isinstance(exc, DomainError) and not isinstance(exc, Forbidden):
            if self.place is not None:
                self.form_error = self.place(exc)
            else:
                self.form_error = place_domain_error(exc, self.lang, self.fields, self.errors)
        else:
            return False
        self.status = 422
        return True


def password_fields(request: Request, form: FormData, names: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """The typed password fields (as typed: never stripped, never echoed back) and their errors: each
    is required, and the last must repeat the one before it."""
    _ = translator(request)
    typed = {name: value if isinstance(value := form.get(name), str) else "" for name in names}
    errors = {name: _("请填写此项") for name, value in typed.items() if not value}
    new, repeat = names[-2], names[-1]
    if not errors and typed[new] != typed[repeat]:
        errors[repeat] = _("两次输入的密码不一致")
    return typed, errors


def local_time(when: dt.datetime | None) -> str:
    """A stored (UTC) time as the local time of the legal calendar, to the minute; ``""`` for none."""
    return when.astimezone(clock.LEGAL_TZ).strftime("%Y-%m-%d %H:%M") if when else ""


def form_values(form: FormData, names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The named text fields as typed (stripped), ``""`` when absent: kept when a form re-renders."""
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out


def checkbox(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "1", "true", "yes")


def _validation_message(error: Mapping[str, Any], lang: str) -> str:
    _ = i18n.gettext_for(lang)
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("请填写此项")
    if kind == "string_too_short":
        return _("至少 %(n)s 个字符", n=ctx.get("min_length", "?"))
    if kind == "string_too_long":
        return _("最多 %(n)s 个字符", n=ctx.get("max_length", "?"))
    if kind in ("literal_error", "enum"):
        return _("请从列表中选择")
    if kind == "string_pattern_mismatch":
        return _("格式不正确")
    if kind == "value_error":
        return i18n.split_bilingual(str(ctx.get("error", error.get("msg", ""))), lang)
    return _("输入有误：%(msg)s", msg=error.get("msg", ""))


def field_errors_from_validation(exc: ValidationError, lang: str) -> dict[str, str]:
    """Pydantic's errors as {field: message in ``lang``}; the first error of a field wins."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = err.get("loc") or ("",)
        out.setdefault(str(loc[0]), _validation_message(err, lang))  # type: ignore[arg-type]
    return out


def domain_error_message(exc: DomainError, lang: str) -> str:
    """A domain error as one line in ``lang``: its title, and the article where the law applies."""
    text = exc.title(lang)
    if exc.article:
        label = i18n.article_label(exc.article, lang)
        text += f"（{label}）" if lang == "zh" else f" ({label})"
    return text


def place_domain_error(
    exc: DomainError, lang: str, fields: tuple[str, ...] | list[str], errors: dict[str, str]
) -> str | None:
    """Put the error next to its field when the form has that field; else return it for the top."""
    message = domain_error_message(exc, lang)
    if exc.field and exc.field in fields:
        errors[exc.field] = message
        return None
    return message


def safe_next(value: object) -> str | None:
    """A local path to go back to after signing in; anything else (other sites) is dropped."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(c in value for c in "\r\n\t") or len(value) > 500:
        return None
    return value


def wants_html(request: Request) -> bool:
    """Pages (not ``/api/``) asked for by a browser get HTML error pages instead of problem+json."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")
