"""Portal pages of a provider's interface and hosted dataset (Art 15(1)): the entry's interface
page, where the provider's staff (or the authority) attach or change a proxied API (base URL,
timeout, secrecy channel, optional OpenAPI) or attach a hosted dataset; upload a dataset version
(a bad file is refused with its rows and columns listed, and nothing is stored); the versions.

Every action goes through ``exchange.service``, the same functions as the JSON API, with the same
scope checks and rules; a refusal is shown on the form next to its field, never as a 500.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from govshare.catalog.models import CatalogResource
from govshare.core.db import SessionDep
from govshare.core.errors import DomainError, NotFound
from govshare.core.paging import Pager
from govshare.exchange import permissions as perm
from govshare.exchange import rules, service
from govshare.exchange.permissions import InterfaceManager, Provider, Reader
from govshare.exchange.schemas import InterfaceCreate, InterfaceUpdate
from govshare.portal import i18n
from govshare.portal.forms import form_values, offset_param, whole
from govshare.portal.web import CsrfForm, FormChange, domain_error_message, local_time, render, translator
from govshare.registry.models import Agency

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
INTERFACE_FIELDS = ("base_url", "timeout_ms", "secrecy_network", "openapi", "lookup_path")
HOSTED_FIELDS = ("required_items", "key_items", "secrecy_network")
UPLOAD_FIELDS = ("file", "changed_at", "note")
SAVED = {
    "attached": ("接口已接入。", "The interface is attached."),
    "updated": ("接口已修改。", "The interface is changed."),
    "uploaded": ("新版本已接收并成为当前版本。", "The new version is accepted and is now current."),
    "detached": ("接口已停用。", "The interface is detached."),
}


def _interface_or_none(session: Any, resource: CatalogResource) -> Any:
    try:
        return service.get_interface(session, resource.id, active=False)
    except NotFound:
        return None


def _may_manage(by: Any, session: Any, resource: CatalogResource) -> bool:
    return perm.is_member(by, resource.provider_id) or by.covers_region(
        service.interfaces.region_path(session, resource), "authority"
    )


def _resource_page(
    request: Request,
    session: Any,
    ref: str,
    by: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    upload_values: dict[str, Any] | None = None,
    upload_errors: dict[str, str] | None = None,
    upload_error: str | None = None,
    row_errors: list[dict[str, Any]] | None = None,
    error_count: int = 0,
    detach_errors: dict[str, str] | None = None,
    detach_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    resource = service.interfaces.load_resource(session, ref)
    path = service.interfaces.region_path(session, resource)
    if not perm.can_read(by, resource.provider_id, path):
        raise NotFound("exchange.resource.not_found", "未找到该目录条目", "No such entry", field="resource")
    interface = _interface_or_none(session, resource)
    kind = rules.KIND_FOR_METHOD.get(resource.provision_method)
    if values is None:
        values = {"timeout_ms": str(rules.DEFAULT_TIMEOUT_MS)}
        if interface is not None and interface.kind == "proxied_api":
            values = {
                "base_url": interface.base_url or "",
                "timeout_ms": str(interface.timeout_ms or rules.DEFAULT_TIMEOUT_MS),
                "secrecy_network": interface.secrecy_network,
                "openapi": interface.openapi_document or "",
                "lookup_path": interface.lookup_path or "",
            }
    versions, pager = [], None
    if interface is not None and interface.kind == "hosted_dataset":
        offset = offset_param(request)
        _i, page = service.list_versions(session, resource.id, viewer=by, offset=offset, limit=PAGE_SIZE)
        versions = [service.version_read(interface, v) for v in page.rows]
        pager = Pager(offset=offset, limit=PAGE_SIZE, total=page.total)
    saved = SAVED.get(request.query_params.get("saved", ""))
    return render(
        request,
        "exchange/resource_interface.html",
        {
            "active": "console",
            "resource": resource,
            "interface": interface,
            "kind": kind,
            "kinds": rules.INTERFACE_KINDS,
            "may_manage": _may_manage(by, session, resource),
            "may_upload": perm.is_member(by, resource.provider_id),
            "values": values,
            "errors": errors or {},
            "form_error": form_error,
            "upload_values": upload_values or {},
            "upload_errors": upload_errors or {},
            "upload_error": upload_error,
            "row_errors": row_errors or [],
            "error_count": error_count,
            "detach_errors": detach_errors or {},
            "detach_error": detach_error,
            "versions": versions,
            "pager": pager,
            "saved": saved,
            "min_timeout": rules.MIN_TIMEOUT_MS,
            "max_timeout": rules.MAX_TIMEOUT_MS,
            "local_time": local_time,
        },
        status_code=status,
    )


@router.get("/exchange/resources", response_class=HTMLResponse)
def resources(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    """The entries whose interface the viewer may see: their agency's (providers), their regions'
    (authority, supervisors); only entries provided through the platform (Art 10(1))."""
    stmt = (
        select(CatalogResource, Agency.name)
        .join(Agency, Agency.id == CatalogResource.provider_id)
        .where(
            CatalogResource.provision_method.in_(tuple(rules.KIND_FOR_METHOD)),
            CatalogResource.status == "published",
            perm.readable_condition(by, CatalogResource.provider_id, CatalogResource.region_code),
        )
        .order_by(CatalogResource.code)
        .limit(500)
    )
    rows = session.execute(stmt).all()
    interfaces = {
        i.resource_id: i
        for i in service.list_interfaces(session, viewer=by, active=None, limit=10_000).rows
        if i.resource_id in {r.id for r, _n in rows}
    }
    return render(
        request,
        "exchange/resources.html",
        {"active": "console", "rows": rows, "interfaces": interfaces, "kinds": rules.INTERFACE_KINDS},
    )


@router.get("/exchange/resources/{ref}", response_class=HTMLResponse)
def resource_page(ref: str, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _resource_page(request, session, ref[:64], by)


def _interface_values(form: Any) -> dict[str, Any]:
    names = INTERFACE_FIELDS + HOSTED_FIELDS
    values: dict[str, Any] = form_values(form, (k for k in names if k != "secrecy_network"))
    values["secrecy_network"] = form.get("secrecy_network") == "on"
    return values


@router.post("/exchange/resources/{ref}/interface", response_class=HTMLResponse, response_model=None)
def save_interface(
    ref: str, request: Request, session: SessionDep, by: InterfaceManager, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """Attach (none yet, or detached) or change the entry's interface: a proxied API from the form's
    fields; a hosted dataset with its defaults (the entry's ID-number and credit-code items as keys)."""
    _ = translator(request)
    ref = ref[:64]
    resource = service.interfaces.load_resource(session, ref)
    perm.check_manage_interface(by, resource.provider_id, service.interfaces.region_path(session, resource))
    kind = rules.KIND_FOR_METHOD.get(resource.provision_method)
    values = _interface_values(form)
    errors: dict[str, str] = {}
    timeout: int | None = None
    if kind == "proxied_api":
        if not values["base_url"]:
            errors["base_url"] = _("请填写此项")
        raw = values["timeout_ms"]
        if raw:
            timeout = whole(raw, max_digits=6)
            if timeout is None:
                errors["timeout_ms"] = _("请填写整数（毫秒）")
        if errors:
            return _resource_page(request, session, ref, by, values=values, errors=errors, status=422)
    interface = _interface_or_none(session, resource)
    attaching = interface is None or interface.detached_at is not None
    change = FormChange(session, i18n.lang_of(request), fields=INTERFACE_FIELDS + HOSTED_FIELDS, errors=errors)
    with change:
        if kind == "proxied_api":
            fields: dict[str, Any] = {
                "base_url": values["base_url"],
                "timeout_ms": timeout,
                "secrecy_network": values["secrecy_network"],
                "lookup_path": values["lookup_path"] or None,
            }
            if values["openapi"] or not attaching:
                fields["openapi"] = values["openapi"]  # an emptied box removes the description
            if attaching:
                service.attach_interface(session, resource.id, InterfaceCreate(kind="proxied_api", **fields), by=by)
            else:
                service.update_interface(session, resource.id, InterfaceUpdate(**fields), by=by)
        else:
            hosted: dict[str, Any] = {"secrecy_network": values["secrecy_network"]}
            for name in ("required_items", "key_items"):
                raw_items = str(form.get(name) or "").strip()
                if raw_items:  # else the service's default (keys: the ID-number and credit-code items)
                    hosted[name] = [n.strip() for n in re.split(r"[,，、;；]", raw_items) if n.strip()]
            service.attach_interface(
                session,
                resource.id,
                InterfaceCreate(kind=kind or "hosted_dataset", **hosted),  # type: ignore[arg-type]
                by=by,
            )
    if change.ok:
        saved = "attached" if attaching else "updated"
        return RedirectResponse(f"/exchange/resources/{resource.code or resource.id}?saved={saved}", status_code=303)
    return _resource_page(
        request, session, ref, by, values=values, errors=errors, form_error=change.form_error, status=change.status
    )


@router.post("/exchange/resources/{ref}/interface/detach", response_class=HTMLResponse, response_model=None)
def detach_interface(
    ref: str, request: Request, session: SessionDep, by: InterfaceManager, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """Detach the entry's interface (the gateway stops serving it; versions are kept), once the
    form's box confirming it is ticked: the service asks for no reason, so the page asks for that."""
    _ = translator(request)
    ref = ref[:64]
    resource = service.interfaces.load_resource(session, ref)
    perm.check_manage_interface(by, resource.provider_id, service.interfaces.region_path(session, resource))
    errors: dict[str, str] = {}
    if form.get("confirm") != "on":
        errors["confirm"] = _("请勾选确认：停用后交换网关不再提供该条目的数据")
        return _resource_page(request, session, ref, by, detach_errors=errors, status=422)
    change = FormChange(session, i18n.lang_of(request), fields=("confirm",), errors=errors)
    with change:
        service.detach_interface(session, resource.id, by=by)
    if change.ok:
        return RedirectResponse(f"/exchange/resources/{resource.code or resource.id}?saved=detached", status_code=303)
    return _resource_page(
        request, session, ref, by, detach_errors=errors, detach_error=change.form_error, status=change.status
    )


def _detail(detail: str | None, lang: str) -> str:
    """A refused upload's detail is written "Chinese / English" (``datasets.readers.refused``):
    the page's language only."""
    if not detail:
        return ""
    zh, _sep, en = detail.partition(" / ")
    return " " + (en if lang == "en" and en else zh)


def _parse_changed_at(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


@router.post("/exchange/resources/{ref}/versions", response_class=HTMLResponse, response_model=None)
async def upload_version(
    ref: str, request: Request, session: SessionDep, by: Provider, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """A new version from the form's file (CSV, JSON lines, Parquet, Excel): validated against the
    entry's items; refused as a whole with the rows and columns at fault listed, nothing stored."""
    _ = translator(request)
    lang = i18n.lang_of(request)
    ref = ref[:64]
    resource = await run_in_threadpool(service.interfaces.load_resource, session, ref)
    perm.check_provider(by, resource.provider_id)  # before anything else: the provider only (Art 11)
    values = form_values(form, ("changed_at", "note"))
    errors: dict[str, str] = {}
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = _("请选择文件")
    changed_at = _parse_changed_at(values["changed_at"])
    if values["changed_at"] and changed_at is None:
        errors["changed_at"] = _("时间格式应为 2026-11-01T09:00 或 2026-11-01 09:00")
    if errors:
        return await run_in_threadpool(
            _resource_page, request, session, ref, by, upload_values=values, upload_errors=errors, status=422
        )
    assert isinstance(upload, UploadFile)
    try:
        plan = await run_in_threadpool(service.prepare_upload, session, ref, by=by)
    except DomainError as exc:
        if exc.status == 403:
            raise
        return await run_in_threadpool(
            _resource_page,
            request,
            session,
            ref,
            by,
            upload_values=values,
            upload_error=domain_error_message(exc, lang),
            status=exc.status,
        )
    # The slow part (copying and validating) holds no transaction (SQLite: no write lock held).
    await run_in_threadpool(session.rollback)
    with tempfile.TemporaryDirectory(prefix="govshare-upload-") as tmp:
        path = Path(tmp) / "upload"
        with path.open("wb") as out:
            await run_in_threadpool(shutil.copyfileobj, upload.file, out)
        try:
            staged = await run_in_threadpool(service.stage_upload, plan, path, filename=upload.filename)
        except DomainError as exc:
            return await run_in_threadpool(
                _resource_page,
                request,
                session,
                ref,
                by,
                upload_values=values,
                upload_error=domain_error_message(exc, lang) + _detail(exc.detail, lang),
                row_errors=list(exc.extra.get("errors") or []),
                error_count=int(exc.extra.get("error_count") or 0),
                status=exc.status,
            )
        change = FormChange(session, lang, fields=UPLOAD_FIELDS, errors=errors)

        def accept() -> None:
            with change:
                service.accept_version(session, plan, staged, by=by, changed_at=changed_at, note=values["note"] or None)

        try:
            await run_in_threadpool(accept)
        finally:
            staged.path.unlink(missing_ok=True)
    if change.ok:
        return RedirectResponse(f"/exchange/resources/{ref}?saved=uploaded", status_code=303)
    return await run_in_threadpool(
        _resource_page,
        request,
        session,
        ref,
        by,
        upload_values=values,
        upload_errors=errors,
        upload_error=change.form_error,
        status=change.status,
    )
