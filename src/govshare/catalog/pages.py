"""Catalog pages: the public catalog with facets and Chinese search, a page per entry, the
provider's forms (draft, submit, revise, bulk upload) and the authority's review queue (Art 9-10).

Every action goes through ``catalog.service`` (the same scope checks and rules as the API, Art 7,
13, 15, 16, 18), so a refused action shows the rule and its article next to the field at fault.
Page text is Chinese in the templates and here, English in the Babel catalog, as on every page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from govshare.catalog import importer, presentation, rules, service
from govshare.catalog import permissions as perm
from govshare.catalog import search as catalog_search
from govshare.catalog.models import CatalogResource
from govshare.catalog.permissions import AuthorityOrProvider, Provider
from govshare.catalog.schemas import ResourceCreate, ResourceUpdate
from govshare.core import refs
from govshare.core.auth import Anyone, Authority, Principal
from govshare.core.db import SessionDep
from govshare.core.errors import DomainError
from govshare.core.paging import Pager
from govshare.portal import i18n
from govshare.portal.i18n import N_
from govshare.portal.web import (
    CsrfForm,
    FormChange,
    checkbox,
    domain_error_message,
    form_values,
    place_domain_error,
    render,
    url_with,
)
from govshare.registry import service as registry_service

router = APIRouter(include_in_schema=False)


PAGE_SIZE = 20
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

#: Text chosen by page code (the templates carry their own); translated by the Babel catalog.
TEXT: dict[str, str] = {
    "created": N_("目录条目已保存为草稿。"),
    "saved": N_("修改已保存。"),
    "reported": N_("修改已作为待审核修订报送信息化主管部门。"),
    "done": N_("操作已完成。"),
    "f_classification": N_("资源分类"),
    "f_category": N_("资源类别"),
    "f_provider": N_("提供单位"),
    "f_region": N_("行政区划"),
    "f_format": N_("数据格式"),
    "f_share_type": N_("共享类型"),
    "f_sector": N_("领域"),
    "f_q": N_("搜索"),
    "f_status": N_("状态"),
    "file_required": N_("请选择文件"),
    "file_too_big": N_("文件超过 5 MB"),
    "none_option": N_("（无）"),
    "all_option": N_("（全部）"),
}
#: How each version came about, for the version history.
CHANGE_KINDS: dict[str, str] = {"created": N_("创建"), "edited": N_("编辑"), "revision": N_("修订")}

_FIELDS = (
    "provider",
    "classification",
    "category",
    "name",
    "name_en",
    "abstract",
    "format",
    "format_detail",
    "share_type",
    "share_conditions",
    "legal_basis",
    "provision_method",
    "update_cycle",
    "update_deadline_workdays",
    "security_classification",
    "data_items",
    "related",
    "note",
)
_CHECKS = ("open_to_public", "contains_commercial_secret", "contains_personal_info")


def _t(key: str, lang: str, **variables: object) -> str:
    return _t_raw(TEXT[key], lang, **variables)


def _t_raw(message: str, lang: str, **variables: object) -> str:
    return i18n.gettext_for(lang)(message, **variables)


def _options(vocab: rules.Labels, lang: str, *, empty: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    out = [("", i18n.pick(empty, lang))] if empty else []
    return out + [(k, i18n.pick(v, lang)) for k, v in vocab.items()]


def _labels(lang: str) -> dict[str, str]:
    labels = presentation.FIELD_LABELS
    return {f: i18n.pick(labels.get(f, (f, f)), lang) for f in (*_FIELDS, *_CHECKS, "sectors", "fee")}


# --- Public catalog -----------------------------------------------------------------------------


def _choice(value: str | None, vocab: rules.Labels) -> str | None:
    return value if value in vocab else None


_FACET_VOCABS: dict[str, rules.Labels] = {
    "classification": rules.CLASSIFICATIONS,
    "category": rules.CATEGORIES,
    "format": rules.FORMATS,
    "share_type": rules.SHARE_TYPES,
    "sector": rules.SECTORS,
}
#: The search's conditions a chip can remove, in the order the chips show them.
_CHIP_PARAMS = ("q", *catalog_search.FACETS, "status")


def _chips(
    request: Request,
    lang: str,
    q: str | None,
    active: dict[str, str],
    status: str | None,
    facets: list[tuple[str, str, list[tuple[str, str, int]]]],
) -> list[dict[str, str]]:
    """The conditions of this search, each with the link to the same search without it."""
    shown = {name: {value: text for value, text, _count in values} for name, _title, values in facets}
    conditions = [("q", q)] + [(name, active.get(name)) for name in catalog_search.FACETS] + [("status", status)]
    chips = []
    for name, value in conditions:
        if not value:
            continue
        if name == "q":
            text = value
        elif name == "status":
            text = rules.label(rules.STATUSES, value, lang)
        elif name in shown and value in shown[name]:
            text = shown[name][value]
        else:  # no entry matches it any more, so no facet names it
            vocab = _FACET_VOCABS.get(name)
            text = rules.label(vocab, value, lang) if vocab else value
        field = _t(f"f_{name}", lang)
        chips.append(
            {
                "name": name,
                "field": field,
                "text": text,
                "href": url_with(request, **{name: None, "offset": None}),
                "aria_label": _t_raw(N_("移除筛选：%(field)s：%(value)s"), lang, field=field, value=text),
            }
        )
    return chips


@router.get("/catalog", response_class=HTMLResponse)
def catalog(
    request: Request,
    session: SessionDep,
    viewer: Anyone,
    q: Annotated[str | None, Query(max_length=200)] = None,
    classification: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    provider: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(max_length=12)] = None,
    format: Annotated[str | None, Query(max_length=16)] = None,
    share_type: Annotated[str | None, Query(max_length=16)] = None,
    sector: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    mine: bool = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    params = catalog_search.SearchParams(
        q=(q or "").strip() or None,
        classification=_choice(classification, rules.CLASSIFICATIONS),
        category=_choice(category, rules.CATEGORIES),
        provider=(provider or "").strip() or None,
        region=(region or "").strip() or None,
        format=_choice(format, rules.FORMATS),
        share_type=_choice(share_type, rules.SHARE_TYPES),
        sector=_choice(sector, rules.SECTORS),
        status=_choice(status, rules.STATUSES),
        mine=mine and viewer is not None,
        offset=offset,
        limit=PAGE_SIZE,
    )
    result = catalog_search.search(session, params, viewer=viewer)
    active = {
        k: v
        for k, v in (
            ("classification", params.classification),
            ("category", params.category),
            ("provider", params.provider),
            ("region", params.region),
            ("format", params.format),
            ("share_type", params.share_type),
            ("sector", params.sector),
        )
        if v
    }
    facets = [
        (
            name,
            _t(f"f_{name}", lang),
            [(v.value, v.label_en if lang == "en" else v.label, v.count) for v in result.facets.get(name, [])],
        )
        for name in catalog_search.FACETS
    ]
    chips = _chips(request, lang, params.q, active, params.status, facets)
    return render(
        request,
        "catalog/list.html",
        {
            "active": "catalog",
            "chips": chips,
            "clear_href": url_with(request, **{k: None for k in (*_CHIP_PARAMS, "offset")}),
            "items": [service.summary(r) for r in result.items],
            "total": result.total,
            "tokens": result.tokens,
            "q": params.q or "",
            "facets": facets,
            "filters": active,
            "mine": params.mine,
            "status": params.status,
            "is_provider": viewer is not None and bool(perm.provider_agency_ids(viewer)),
            "is_authority": viewer is not None and bool(viewer.region_paths("authority")),
            "pager": Pager(offset, PAGE_SIZE, result.total),
            "label": lambda vocab, v: rules.label(getattr(rules, vocab), v, lang),
        },
    )


# --- Forms: new and edit ------------------------------------------------------------------------


def _form_context(
    session: Session,
    by: Principal,
    lang: str,
    values: dict[str, Any],
    errors: dict[str, str],
    form_error: str | None,
    *,
    resource: Any = None,
) -> dict[str, Any]:
    agencies = [registry_service.get_agency(session, a) for a in sorted(perm.provider_agency_ids(by))]
    categories = [("", _t("none_option", lang))]
    for cls in ("basic", "thematic"):
        group = i18n.pick(rules.CLASSIFICATIONS[cls], lang)
        categories += [(k, f"{group} · {i18n.pick(v, lang)}") for k, v in rules.categories_of(cls).items()]
    return {
        "active": "catalog",
        "values": values,
        "errors": errors,
        "form_error": form_error,
        "labels": _labels(lang),
        "resource": resource,
        "providers": [(a.code, (a.name_en or a.name) if lang == "en" else a.name) for a in agencies],
        "classifications": _options(rules.CLASSIFICATIONS, lang),
        "categories": categories,
        "formats": _options(rules.FORMATS, lang),
        "share_types": _options(rules.SHARE_TYPES, lang),
        "methods": _options(rules.PROVISION_METHODS, lang),
        "cycles": _options(rules.UPDATE_CYCLES, lang),
        "securities": _options(rules.SECURITY_CLASSIFICATIONS, lang),
        "sector_options": _options(rules.SECTORS, lang),
    }


def _items_text(items: list[dict[str, Any]]) -> str:
    lines = []
    for i in items:
        flags = "、".join(f for f, on in (("个人", i.get("is_personal")), ("涉密", i.get("is_secret"))) if on)
        parts = [
            i["name"],
            rules.label(rules.DATA_TYPES, i.get("data_type") or "string"),
            i.get("description") or "",
            flags,
        ]
        while parts and not parts[-1]:
            parts.pop()
        lines.append("|".join(parts))
    return "\n".join(lines)


def _values_of(session: Session, snapshot: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        f: "" if snapshot.get(f) is None else str(snapshot.get(f)) for f in _FIELDS if f in snapshot
    }
    for f in _CHECKS:
        values[f] = bool(snapshot.get(f))
    values["data_items"] = _items_text(snapshot.get("data_items") or [])
    values["sectors"] = list(snapshot.get("sectors") or [])
    related = snapshot.get("related") or []
    rows = session.execute(select(CatalogResource.id, CatalogResource.code).where(CatalogResource.id.in_(related)))
    values["related"] = ", ".join(code or str(rid) for rid, code in rows) if related else ""
    return values


def _payload(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the typed values, to re-render the form) and (the payload for the schema)."""
    values: dict[str, Any] = form_values(form, _FIELDS)
    for f in _CHECKS:
        values[f] = checkbox(form, f)
    values["sectors"] = [s for s in form.getlist("sectors") if isinstance(s, str)]
    payload: dict[str, Any] = {k: (v or None) for k, v in values.items() if k in _FIELDS}
    payload.update({f: values[f] for f in _CHECKS})
    payload["sectors"] = values["sectors"]
    payload["abstract"] = values["abstract"]
    payload["data_items"] = importer.parse_data_items(values["data_items"]) if values["data_items"] else []
    payload["related"] = rules.split_list(values["related"])
    deadline = values["update_deadline_workdays"]
    days = refs.ascii_int(deadline)
    payload["update_deadline_workdays"] = days if days is not None else (deadline or None)
    if payload["update_deadline_workdays"] is None:
        payload.pop("update_deadline_workdays")
    return values, payload


def _entry_change(session: Session, lang: str, errors: dict[str, str]) -> FormChange:
    """The change of an entry form: a refusal goes next to its field (``data_items.2.name`` next to
    the data items), else to the top of the form."""

    def place(exc: DomainError) -> str | None:
        field = (exc.field or "").split(".", 1)[0]
        if field and field in (*_FIELDS, *_CHECKS, "sectors"):
            errors[field] = domain_error_message(exc, lang)
            return None
        return place_domain_error(exc, lang, list(_FIELDS), errors)

    return FormChange(session, lang, fields=_FIELDS, errors=errors, place=place)


def _parse_entry_form(form: FormData, lang: str, errors: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form's values (to show again) and the payload for the schema; a malformed data item line
    is an error next to the data items."""
    try:
        return _payload(form)
    except importer.RowError as exc:
        errors["data_items"] = exc.en if lang == "en" else exc.zh
        return form_values(form, _FIELDS), {}


@router.get("/catalog/new", response_class=HTMLResponse)
def new_entry(request: Request, session: SessionDep, by: Provider) -> HTMLResponse:
    lang = i18n.lang_of(request)
    values: dict[str, Any] = {
        "classification": "basic",
        "update_deadline_workdays": "20",
        "security_classification": "internal",
        "share_type": "conditional",
        "provision_method": "gateway_api",
        "format": "database",
        "update_cycle": "daily",
    }
    demand = request.query_params.get("demand")
    if refs.id_of(demand) is not None:
        values["demand_id"] = demand
    return render(request, "catalog/form.html", _form_context(session, by, lang, values, {}, None))


@router.post("/catalog/new", response_class=HTMLResponse, response_model=None)
def create_entry(
    request: Request, session: SessionDep, by: Provider, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    errors: dict[str, str] = {}
    values, payload = _parse_entry_form(form, lang, errors)
    demand = form.get("demand_id")
    demand_id = refs.id_of(demand)
    if demand_id is not None:
        payload["demand_id"] = demand_id
        values["demand_id"] = demand
    change = _entry_change(session, lang, errors)
    if not errors:
        with change:
            resource = service.create_resource(session, ResourceCreate.model_validate(payload), by=by)
    if change.ok:
        return RedirectResponse(f"/catalog/{resource.id}?done=created", status_code=303)
    context = _form_context(session, by, lang, values, errors, change.form_error)
    return render(request, "catalog/form.html", context, status_code=422)


@router.get("/catalog/{ref}/edit", response_class=HTMLResponse)
def edit_entry(ref: str, request: Request, session: SessionDep, by: Provider) -> HTMLResponse:
    lang = i18n.lang_of(request)
    resource = service.get_visible(session, ref, by)
    perm.check_provider(by, resource.provider_id)
    pending = service.pending_version(session, resource)
    snapshot = dict(pending.snapshot) if pending is not None else service.snapshot_of(resource)
    values = _values_of(session, snapshot)
    return render(
        request,
        "catalog/form.html",
        _form_context(session, by, lang, values, {}, None, resource=service.summary(resource)),
    )


@router.post("/catalog/{ref}/edit", response_class=HTMLResponse, response_model=None)
def update_entry(
    ref: str, request: Request, session: SessionDep, by: Provider, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    resource = service.get_visible(session, ref, by)
    summary = service.summary(resource)
    errors: dict[str, str] = {}
    values, payload = _parse_entry_form(form, lang, errors)
    payload.pop("provider", None)
    if payload.get("classification") == "departmental":
        payload["category"] = None
    payload.setdefault("category", None)
    for f in ("name_en", "format_detail", "share_conditions", "legal_basis"):
        payload.setdefault(f, None)
    change = _entry_change(session, lang, errors)
    if not errors:
        with change:
            updated = service.update_resource(session, resource.id, ResourceUpdate.model_validate(payload), by=by)
    if change.ok:
        done = "reported" if updated.pending_version_number is not None else "saved"
        return RedirectResponse(f"/catalog/{resource.id}?done={done}", status_code=303)
    context = _form_context(session, by, lang, values, errors, change.form_error, resource=summary)
    return render(request, "catalog/form.html", context, status_code=422)


# --- Review queue and upload --------------------------------------------------------------------


@router.get("/catalog/review", response_class=HTMLResponse)
def review(request: Request, session: SessionDep, by: Authority) -> HTMLResponse:
    submitted, revisions = service.review_queue(session, by=by)
    return render(
        request,
        "catalog/review.html",
        {
            "active": "catalog",
            "submitted": [service.summary(r) for r in submitted],
            "revisions": [service.summary(r) for r in revisions],
        },
    )


@router.get("/catalog/import", response_class=HTMLResponse)
def import_form(request: Request, session: SessionDep, by: Provider) -> HTMLResponse:
    lang = i18n.lang_of(request)
    return render(request, "catalog/import.html", {**_form_context(session, by, lang, {}, {}, None), "report": None})


@router.post("/catalog/import", response_class=HTMLResponse)
def import_upload(request: Request, session: SessionDep, by: Provider, form: CsrfForm) -> HTMLResponse:
    lang = i18n.lang_of(request)
    upload = form.get("file")
    provider = form.get("provider")
    agency = provider.strip() if isinstance(provider, str) and provider.strip() else None
    valid_only = checkbox(form, "valid_only")
    errors: dict[str, str] = {}
    report = None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = _t("file_required", lang)
    else:
        data = upload.file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            errors["file"] = _t("file_too_big", lang)
        else:
            try:
                table = importer.read_table(data, upload.filename)
                with session.begin_nested():
                    report = importer.import_table(session, table, agency=agency, by=by, valid_only=valid_only)
            except DomainError as exc:
                errors["file"] = domain_error_message(exc, lang)
    context = _form_context(session, by, lang, {"provider": agency or "", "valid_only": valid_only}, errors, None)
    return render(
        request,
        "catalog/import.html",
        {**context, "report": report},
        status_code=422 if errors or (report is not None and not report.stored) else 200,
    )


# --- One entry ----------------------------------------------------------------------------------


@router.get("/catalog/{ref}", response_class=HTMLResponse)
def entry(ref: str, request: Request, session: SessionDep, viewer: Anyone) -> HTMLResponse:
    lang = i18n.lang_of(request)
    resource = service.get_visible(session, ref, viewer)
    read = service.read_model(session, resource, viewer)
    region_path = registry_service.region_path_of(session, resource.region_code)
    is_provider = viewer is not None and perm.is_provider(viewer, resource.provider_id)
    is_authority = viewer is not None and perm.is_authority_for(viewer, region_path)
    versions = service.list_versions(session, resource.id, viewer=viewer)
    pending_diff = service.diff(session, resource.id, viewer=viewer) if read.pending_revision is not None else None
    compare = None
    from_number = refs.id_of(request.query_params.get("from"))
    to_number = refs.id_of(request.query_params.get("to"))
    if from_number is not None and to_number is not None:
        try:
            compare = service.diff(session, resource.id, viewer=viewer, from_number=from_number, to_number=to_number)
        except DomainError:
            compare = None
    done = request.query_params.get("done")
    return render(
        request,
        "catalog/entry.html",
        {
            "active": "catalog",
            "r": read,
            "lang": lang,
            "versions": versions,
            "pending_diff": pending_diff,
            "compare": compare,
            "done": _t(done, lang) if done in ("created", "saved", "reported", "done") else None,
            "is_provider": is_provider,
            "is_authority": is_authority,
            "label": lambda vocab, v: rules.label(getattr(rules, vocab), v, lang),
            "field_label": lambda f: i18n.pick(presentation.FIELD_LABELS.get(f, (f, f)), lang),
            "change_kinds": {k: _t_raw(v, lang) for k, v in CHANGE_KINDS.items()},
        },
    )


def _act(ref: str, session: Session, action: Any, **kw: Any) -> RedirectResponse:
    resource = service.get_resource(session, ref)
    with session.begin_nested():
        action(session, resource.id, **kw)
    return RedirectResponse(f"/catalog/{resource.id}?done=done", status_code=303)


def _reason(form: FormData) -> str:
    value = form.get("reason")
    return value.strip() if isinstance(value, str) else ""


def _note(form: FormData) -> str | None:
    value = form.get("note")
    return value.strip() or None if isinstance(value, str) else None


@router.post("/catalog/{ref}/submit")
def submit_entry(ref: str, session: SessionDep, by: Provider, form: CsrfForm) -> RedirectResponse:
    return _act(ref, session, service.submit, by=by, note=_note(form))


@router.post("/catalog/{ref}/publish")
def publish_entry(ref: str, session: SessionDep, by: Authority, form: CsrfForm) -> RedirectResponse:
    return _act(ref, session, service.publish, by=by, note=_note(form))


@router.post("/catalog/{ref}/reject")
def reject_entry(ref: str, session: SessionDep, by: Authority, form: CsrfForm) -> RedirectResponse:
    return _act(ref, session, service.reject, by=by, reason=_reason(form))


@router.post("/catalog/{ref}/revision/approve")
def approve_revision(ref: str, session: SessionDep, by: Authority, form: CsrfForm) -> RedirectResponse:
    return _act(ref, session, service.approve_revision, by=by, note=_note(form))


@router.post("/catalog/{ref}/revision/reject")
def reject_revision(ref: str, session: SessionDep, by: Authority, form: CsrfForm) -> RedirectResponse:
    return _act(ref, session, service.reject_revision, by=by, reason=_reason(form))


@router.post("/catalog/{ref}/withdraw")
def withdraw_entry(ref: str, session: SessionDep, by: AuthorityOrProvider, form: CsrfForm) -> RedirectResponse:
    return _act(ref, session, service.withdraw, by=by, reason=_reason(form))
