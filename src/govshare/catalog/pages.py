"""Catalog pages: the public catalog with facets and Chinese search, a page per entry, the
provider's forms (draft, submit, revise, bulk upload) and the authority's review queue (Art 9-10).

Every action goes through ``catalog.service`` (the same scope checks and rules as the API, Art 7,
13, 15, 16, 18), so a refused action shows the rule and its article next to the field at fault.
Page text is kept here as (Chinese, English) pairs and shown with ``pick``.
"""

from __future__ import annotations

import types
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from govshare.catalog import importer, presentation, rules, service
from govshare.catalog import permissions as perm
from govshare.catalog import search as catalog_search
from govshare.catalog.models import CatalogResource
from govshare.catalog.permissions import AuthorityOrProvider, Provider
from govshare.catalog.schemas import ResourceCreate, ResourceUpdate
from govshare.core.auth import Anyone, Authority, Principal
from govshare.core.db import SessionDep
from govshare.core.errors import DomainError
from govshare.portal import i18n
from govshare.portal.web import (
    CsrfForm,
    checkbox,
    domain_error_message,
    field_errors_from_validation,
    form_values,
    place_domain_error,
    render,
)
from govshare.registry import service as registry_service

router = APIRouter(include_in_schema=False)


PAGE_SIZE = 20
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

#: Page text: (Chinese, English).
T: dict[str, tuple[str, str]] = {
    "catalog": ("共享目录", "Shared catalog"),
    "search_form": ("检索目录", "Search the catalog"),
    "facets": ("筛选", "Filters"),
    "lead": (
        "各机关的政务信息资源及其共享条件、提供方式和更新时限（《办法》第九条、第十条）。",
        "Government information resources of every agency, with their sharing conditions, provision "
        "method and update deadline (Art 9 and 10 of the Measures).",
    ),
    "search": ("搜索", "Search"),
    "search_hint": ("资源名称、摘要、信息项或提供单位", "Name, abstract, data item or provider"),
    "apply": ("检索", "Search"),
    "clear": ("清除条件", "Clear filters"),
    "results": ("共 %(n)s 条", "%(n)s entries"),
    "none": ("没有符合条件的目录条目。", "No entry matches."),
    "tokens": ("分词：", "Words searched: "),
    "f_classification": ("资源分类", "Classification"),
    "f_category": ("资源类别", "Category"),
    "f_provider": ("提供单位", "Provider"),
    "f_region": ("行政区划", "Region"),
    "f_format": ("数据格式", "Format"),
    "f_share_type": ("共享类型", "Share type"),
    "f_sector": ("领域", "Sector"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "mine": ("本机关目录", "My agency's entries"),
    "new": ("新建目录条目", "New entry"),
    "import": ("批量导入", "Bulk import"),
    "review": ("待审核", "Review queue"),
    "status": ("状态", "Status"),
    "code": ("资源代码", "Resource code"),
    "published_on": ("发布日期", "Publish date"),
    "modified_on": ("最近修订", "Last revised"),
    "items": ("信息项", "Data items"),
    "item_name": ("名称", "Name"),
    "item_type": ("类型", "Type"),
    "item_desc": ("说明", "Description"),
    "item_flags": ("标记", "Flags"),
    "personal": ("个人信息", "personal"),
    "secret": ("涉密", "secret"),
    "related": ("关联资源", "Related resources"),
    "versions": ("版本历史", "Versions"),
    "version": ("版本", "Version"),
    "changes": ("变更", "Changes"),
    "diff": ("比较", "Compare"),
    "pending": ("待审核的修订", "Pending revision"),
    "pending_note": (
        "提供单位对已发布内容的修改，经信息化主管部门批准后生效（第十条第二款）。",
        "The provider's change to the published entry; it takes effect once the authority approves it (Art 10(2)).",
    ),
    "edit": ("修改", "Edit"),
    "submit": ("提交发布", "Submit for publication"),
    "publish": ("发布", "Publish"),
    "reject": ("退回", "Send back"),
    "approve": ("批准修订", "Approve revision"),
    "reject_revision": ("退回修订", "Reject revision"),
    "withdraw": ("撤销", "Withdraw"),
    "reason": ("理由", "Reason"),
    "note": ("说明", "Note"),
    "created": ("目录条目已保存为草稿。", "The entry was saved as a draft."),
    "saved": ("修改已保存。", "Changes saved."),
    "reported": (
        "修改已作为待审核修订报送信息化主管部门。",
        "The change was reported to the authority as a pending revision.",
    ),
    "done": ("操作已完成。", "Done."),
    "review_note": ("主管部门意见", "Authority's note"),
    "withdrawal_reason": ("撤销理由", "Reason for withdrawal"),
    "form_new": ("新建目录条目", "New catalog entry"),
    "form_edit": ("修改目录条目", "Edit catalog entry"),
    "basics": ("基本信息", "Basics"),
    "sharing": ("共享", "Sharing"),
    "provision": ("提供与更新", "Provision and updates"),
    "security": ("安全", "Security"),
    "save": ("保存", "Save"),
    "cancel": ("取消", "Cancel"),
    "items_hint": (
        "每行一个信息项：名称|类型|说明|标记，标记可写“个人”“涉密”。例：公民身份号码|字符型|18 位|个人",
        "One data item per line: name|type|description|flags, flags 个人 (personal) and/or 涉密 "
        "(secret). E.g. 公民身份号码|string|18 digits|个人",
    ),
    "related_hint": ("资源代码，用逗号分隔", "Resource codes, separated by commas"),
    "deadline_hint": (
        "共享信息变更后更新的工作日数，不超过 20（第十五条）",
        "Working days to update after a change, at most 20 (Art 15)",
    ),
    "conditions_hint": ("有条件共享时必填（第十条）", "Required for conditional sharing (Art 10)"),
    "basis_hint": (
        "不予共享时必填：涉及国家秘密、商业秘密、个人隐私或其他法定事由（第七条、第十三条）",
        "Required when not shared: state secret, commercial secret, personal privacy or another legal "
        "ground (Art 7, 13)",
    ),
    "note_hint": ("本次修改的说明，记入版本历史", "What this change is about; kept in the version history"),
    "none_option": ("（无）", "(none)"),
    "all_option": ("（全部）", "(all)"),
    "submitted_list": ("待发布的条目", "Submitted entries"),
    "revisions_list": ("待审核的修订", "Pending revisions"),
    "queue_empty": ("没有待审核的事项。", "Nothing to review."),
    "import_title": ("批量导入目录", "Bulk import of catalog entries"),
    "import_lead": (
        "上传 Excel（.xlsx）或 CSV 文件，第一行为表头（资源名称、资源分类、数据格式、共享类型、提供方式、更新周期"
        "等）。文件有错误时不导入任何条目，除非选择只导入无误的行。导入的条目为草稿。",
        "Upload an Excel (.xlsx) or CSV file whose first row holds the headers (资源名称 name, 资源分类 "
        "classification, 数据格式 format, 共享类型 share type, 提供方式 provision method, 更新周期 update "
        "cycle ...). Nothing is imported from a file with errors unless you choose to import the valid rows "
        "only. Imported entries are drafts.",
    ),
    "file": ("文件", "File"),
    "valid_only": ("只导入无误的行", "Import the valid rows only"),
    "upload": ("上传并导入", "Upload and import"),
    "import_done": ("已导入 %(n)s 条（共 %(rows)s 行）。", "Imported %(n)s of %(rows)s rows."),
    "import_none": ("未导入任何条目：文件有 %(n)s 处错误。", "Nothing imported: the file has %(n)s errors."),
    "row": ("行", "Row"),
    "column": ("列", "Column"),
    "problem": ("问题", "Problem"),
    "ignored": ("未识别的列（已忽略）：", "Columns not recognised (ignored): "),
    "drafts": ("查看本机关草稿", "See my agency's drafts"),
    "file_required": ("请选择文件", "Choose a file"),
    "file_too_big": ("文件超过 5 MB", "The file is over 5 MB"),
}

#: The same, for templates: ``{{ pick(t.search) }}``.
_TEXT = types.SimpleNamespace(**T)

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
    text = i18n.pick(T[key], lang)
    return text % variables if variables else text


def _options(vocab: rules.Labels, lang: str, *, empty: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    out = [("", i18n.pick(empty, lang))] if empty else []
    return out + [(k, i18n.pick(v, lang)) for k, v in vocab.items()]


def _labels(lang: str) -> dict[str, str]:
    labels = presentation.FIELD_LABELS
    return {f: i18n.pick(labels.get(f, (f, f)), lang) for f in (*_FIELDS, *_CHECKS, "sectors", "fee")}


# --- Public catalog -----------------------------------------------------------------------------


def _choice(value: str | None, vocab: rules.Labels) -> str | None:
    return value if value in vocab else None


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
    return render(
        request,
        "catalog/list.html",
        {
            "active": "catalog",
            "t": _TEXT,
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
            "prev_offset": max(offset - PAGE_SIZE, 0) if offset > 0 else None,
            "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < result.total else None,
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
    categories = [("", i18n.pick(T["none_option"], lang))]
    for cls in ("basic", "thematic"):
        group = i18n.pick(rules.CLASSIFICATIONS[cls], lang)
        categories += [(k, f"{group} · {i18n.pick(v, lang)}") for k, v in rules.categories_of(cls).items()]
    return {
        "active": "catalog",
        "t": _TEXT,
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
    payload["update_deadline_workdays"] = int(deadline) if deadline.isdigit() else (deadline or None)
    if payload["update_deadline_workdays"] is None:
        payload.pop("update_deadline_workdays")
    return values, payload


def _form_errors(exc: Exception, lang: str, errors: dict[str, str]) -> str | None:
    if isinstance(exc, ValidationError):
        errors.update(field_errors_from_validation(exc, lang))
        return None
    if isinstance(exc, importer.RowError):
        errors["data_items"] = exc.en if lang == "en" else exc.zh
        return None
    assert isinstance(exc, DomainError)
    field = (exc.field or "").split(".", 1)[0]
    if field and field in (*_FIELDS, *_CHECKS, "sectors"):
        errors[field] = domain_error_message(exc, lang)
        return None
    return place_domain_error(exc, lang, list(_FIELDS), errors)


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
    if demand and demand.isdigit():
        values["demand_id"] = demand
    return render(request, "catalog/form.html", _form_context(session, by, lang, values, {}, None))


@router.post("/catalog/new", response_class=HTMLResponse, response_model=None)
def create_entry(
    request: Request, session: SessionDep, by: Provider, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = form_values(form, _FIELDS)
    try:
        values, payload = _payload(form)
        demand = form.get("demand_id")
        if isinstance(demand, str) and demand.isdigit():
            payload["demand_id"] = int(demand)
            values["demand_id"] = demand
        with session.begin_nested():
            resource = service.create_resource(session, ResourceCreate.model_validate(payload), by=by)
    except (ValidationError, DomainError, importer.RowError) as exc:
        form_error = _form_errors(exc, lang, errors)
        return render(
            request, "catalog/form.html", _form_context(session, by, lang, values, errors, form_error), status_code=422
        )
    return RedirectResponse(f"/catalog/{resource.id}?done=created", status_code=303)


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
    values: dict[str, Any] = form_values(form, _FIELDS)
    try:
        values, payload = _payload(form)
        payload.pop("provider", None)
        if payload.get("classification") == "departmental":
            payload["category"] = None
        payload.setdefault("category", None)
        for f in ("name_en", "format_detail", "share_conditions", "legal_basis"):
            payload.setdefault(f, None)
        with session.begin_nested():
            updated = service.update_resource(session, resource.id, ResourceUpdate.model_validate(payload), by=by)
    except (ValidationError, DomainError, importer.RowError) as exc:
        form_error = _form_errors(exc, lang, errors)
        return render(
            request,
            "catalog/form.html",
            _form_context(session, by, lang, values, errors, form_error, resource=summary),
            status_code=422,
        )
    done = "reported" if updated.pending_version_number is not None else "saved"
    return RedirectResponse(f"/catalog/{resource.id}?done={done}", status_code=303)


# --- Review queue and upload --------------------------------------------------------------------


@router.get("/catalog/review", response_class=HTMLResponse)
def review(request: Request, session: SessionDep, by: Authority) -> HTMLResponse:
    submitted, revisions = service.review_queue(session, by=by)
    return render(
        request,
        "catalog/review.html",
        {
            "active": "catalog",
            "t": _TEXT,
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
    if "from" in request.query_params and "to" in request.query_params:
        try:
            compare = service.diff(
                session,
                resource.id,
                viewer=viewer,
                from_number=int(request.query_params["from"]),
                to_number=int(request.query_params["to"]),
            )
        except (ValueError, DomainError):
            compare = None
    done = request.query_params.get("done")
    return render(
        request,
        "catalog/entry.html",
        {
            "active": "catalog",
            "t": _TEXT,
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
            "change_kinds": {
                "created": ("创建", "created"),
                "edited": ("编辑", "edited"),
                "revision": ("修订", "revision"),
            },
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
