"""Registry pages: the region tree, the agency directory, agency profiles and their forms.

Reading is public (the registry is the directory the catalog points at, Art 5); registering an
agency needs an authority over its region, changing one an authority over its region or the
agency's own admin (Art 30). The scope checks are the service's, so the forms enforce exactly
what the API enforces.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.core.auth import Anyone, Authority, Principal, SignedIn
from govshare.core.db import SessionDep
from govshare.core.errors import NotFound
from govshare.core.paging import Pager
from govshare.portal import i18n
from govshare.portal.web import (
    CsrfForm,
    FormChange,
    checkbox,
    field_errors_from_validation,
    form_values,
    local_time,
    password_fields,
    render,
    translator,
)
from govshare.registry import permissions as perm
from govshare.registry import rules, service
from govshare.registry.permissions import Manager
from govshare.registry.schemas import AgencyCreate, AgencyUpdate, ClientCreate, GrantCreate, PersonCreate

if TYPE_CHECKING:
    from govshare.registry.models import Agency, Region

router = APIRouter(include_in_schema=False)


PAGE_SIZE = 50


def _name(obj: Region | Agency, lang: str) -> str:
    return (obj.name_en or obj.name) if lang == "en" else obj.name


def _region_options(regions: list[Region] | Any, lang: str) -> list[tuple[str, str]]:
    """(code, label) with the tree shown by indentation."""
    indent = {"province": "", "city": "\u3000", "county": "\u3000\u3000"}
    ordered = sorted(regions, key=lambda r: r.path)
    code = "（{}）" if lang == "zh" else " ({})"
    return [(r.code, indent.get(r.level, "") + _name(r, lang) + code.format(r.code)) for r in ordered]


def _missing_responsible(agency: Agency) -> bool:
    """Art 30: the agency has named no responsible internal unit or person."""
    return not (agency.responsible_unit or "").strip() or not (agency.responsible_person or "").strip()


# --- Regions ------------------------------------------------------------------------------------


@router.get("/regions", response_class=HTMLResponse)
def regions(request: Request, session: SessionDep, _viewer: Anyone) -> HTMLResponse:
    lang = i18n.lang_of(request)
    rows = service.list_regions(session)
    children: dict[str | None, list[Region]] = defaultdict(list)
    codes = {r.code for r in rows}
    for r in rows:
        children[r.parent_code if r.parent_code in codes else None].append(r)

    def tree(parent: str | None) -> list[dict[str, Any]]:
        return [
            {"code": r.code, "name": _name(r, lang), "level": r.level, "children": tree(r.code)}
            for r in children.get(parent, [])
        ]

    return render(request, "registry/regions.html", {"tree": tree(None), "count": len(rows)})


@router.get("/regions/{code}", response_class=HTMLResponse)
def region(code: str, request: Request, session: SessionDep, _viewer: Anyone) -> HTMLResponse:
    lang = i18n.lang_of(request)
    reg = service.get_region(session, code)
    ancestors = [service.get_region(session, c) for c in reg.path.split("/")[:-1]]
    subregions = service.list_regions(session, parent_code=code)
    agencies, direct_total = service.list_agencies(session, region=code, include_subregions=False, limit=200)
    _all, total = service.list_agencies(session, region=code, limit=1)
    _m, missing = service.list_agencies(session, region=code, missing_responsible=True, limit=1)
    return render(
        request,
        "registry/region.html",
        {
            "region": reg,
            "region_name": _name(reg, lang),
            "level": i18n.pick(rules.REGION_LEVEL_NAMES.get(reg.level, (reg.level, reg.level)), lang),
            "ancestors": [(a.code, _name(a, lang)) for a in ancestors],
            "subregions": [(r.code, _name(r, lang), r.level) for r in subregions],
            "agencies": [_agency_row(a, lang, {reg.code: _name(reg, lang)}) for a in agencies],
            "direct_total": direct_total,
            "total": total,
            "missing": missing,
        },
    )


# --- Agencies: directory and profile ------------------------------------------------------------


def _agency_row(a: Agency, lang: str, region_names: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "code": a.code,
        "name": _name(a, lang),
        "region_code": a.region_code,
        "region_name": (region_names or {}).get(a.region_code, a.region_code),
        "kind": _kind_name(a.kind, lang),
        "is_authority": a.is_authority,
        "active": a.active,
        "responsible": " / ".join(x for x in (a.responsible_unit, a.responsible_person) if x),
        "missing_responsible": _missing_responsible(a),
    }


@router.get("/agencies", response_class=HTMLResponse)
def agencies(
    request: Request,
    session: SessionDep,
    _viewer: Anyone,
    region: str | None = Query(default=None, max_length=12),
    q: str | None = Query(default=None, max_length=100),
    missing: bool = Query(default=False),
    offset: int = Query(default=0, ge=0),
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    region = region or None
    q = (q or "").strip() or None
    rows, total = service.list_agencies(
        session, region=region, q=q, missing_responsible=missing, offset=offset, limit=PAGE_SIZE
    )
    all_regions = service.list_regions(session)
    names = {r.code: _name(r, lang) for r in all_regions}
    return render(
        request,
        "registry/agencies.html",
        {
            "active": "agencies",
            "rows": [_agency_row(a, lang, names) for a in rows],
            "total": total,
            "filters": {"region": region or "", "q": q or "", "missing": missing},
            "region_options": _region_options(all_regions, lang),
            "offset": offset,
            "page_size": PAGE_SIZE,
            "pager": Pager(offset, PAGE_SIZE, total),
        },
    )


# ``/agencies/new`` is declared before ``/agencies/{code}`` so that it is not taken for a code.

CREATE_FIELDS = (
    "code",
    "uscc",
    "name",
    "name_en",
    "region_code",
    "kind",
    "vertical_system",
    "responsible_unit",
    "responsible_person",
    "responsible_phone",
)
CREATE_REQUIRED = ("code", "uscc", "name", "region_code")
EDIT_FIELDS = (
    "name",
    "name_en",
    "kind",
    "vertical_system",
    "responsible_unit",
    "responsible_person",
    "responsible_phone",
)
EDIT_REQUIRED = ("name",)
EDIT_AUTHORITY_FLAGS = ("is_authority", "active")


def _edit_fields(is_authority: bool) -> tuple[str, ...]:
    """The fields this editor may change: an agency admin not those that fix the agency's legal
    standing (``permissions.AUTHORITY_ONLY_FIELDS``, Art 5); they are shown to it, not offered."""
    fields = EDIT_FIELDS + EDIT_AUTHORITY_FLAGS
    return fields if is_authority else tuple(f for f in fields if f not in perm.AUTHORITY_ONLY_FIELDS)


def _labels(request: Request) -> dict[str, str]:
    _ = translator(request)
    return {
        "code": _("机构代号"),
        "uscc": _("统一社会信用代码"),
        "name": _("机关名称"),
        "name_en": _("英文名称"),
        "region_code": _("所属行政区划"),
        "kind": _("机关类型"),
        "vertical_system": _("所属垂直管理系统"),
        "is_authority": _("本地区信息化主管部门"),
        "responsible_unit": _("共享工作负责单位（内设机构）"),
        "responsible_person": _("共享工作负责人"),
        "responsible_phone": _("负责人联系电话"),
        "active": _("在用"),
        "csrf_token": _("表单令牌"),
    }


def _kind_name(kind: str, lang: str) -> str:
    return i18n.pick(rules.AGENCY_KINDS.get(kind, (kind, kind)), lang)


def _kind_options(lang: str) -> list[tuple[str, str]]:
    return [(k, i18n.pick(v, lang)) for k, v in rules.AGENCY_KINDS.items()]


def _creatable_regions(session: Session, by: Principal) -> list[Region]:
    """Regions where ``by`` may register agencies: its authority regions and all below them."""
    seen: dict[str, Region] = {}
    for grant in by.grants:
        if grant.role == "authority" and grant.agency_id is None:
            for r in service.list_regions(session, under=grant.region_code):
                seen[r.code] = r
    return list(seen.values())


def _text_or_none(values: dict[str, str], names: tuple[str, ...]) -> dict[str, str | None]:
    return {k: (values[k] or None) for k in names}


def _required_errors(request: Request, values: dict[str, str], required: tuple[str, ...]) -> dict[str, str]:
    _ = translator(request)
    return {k: _("请填写此项") for k in required if not values.get(k)}


def _agency_form(
    request: Request,
    session: Session,
    by: Principal,
    *,
    mode: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    agency: Agency | None = None,
    editable: tuple[str, ...] = (),
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    regions = _creatable_regions(session, by) if mode == "create" else []
    order = CREATE_FIELDS + EDIT_AUTHORITY_FLAGS
    errors = dict(sorted((errors or {}).items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    return render(
        request,
        "registry/agency_form.html",
        {
            "active": "agencies",
            "mode": mode,
            "values": values,
            "errors": errors,
            "form_error": form_error,
            "labels": _labels(request),
            "kind_options": _kind_options(lang),
            "region_options": _region_options(regions, lang),
            "agency": agency,
            "agency_name": _name(agency, lang) if agency else None,
            "editable": set(CREATE_FIELDS + ("is_authority",)) if mode == "create" else set(editable),
            "kind_name": _kind_name(agency.kind, lang) if agency else None,
        },
        status_code=status_code,
    )


@router.get("/agencies/new", response_class=HTMLResponse)
def new_agency_form(
    request: Request, session: SessionDep, by: Authority, region: str | None = Query(default=None, max_length=12)
) -> HTMLResponse:
    values: dict[str, Any] = dict.fromkeys(CREATE_FIELDS, "")
    values.update(kind="agency", region_code=region or "", is_authority=False)
    return _agency_form(request, session, by, mode="create", values=values)


@router.post("/agencies/new", response_class=HTMLResponse)
def new_agency_submit(request: Request, session: SessionDep, by: Authority, form: CsrfForm) -> Any:
    lang = i18n.lang_of(request)
    values: dict[str, Any] = form_values(form, CREATE_FIELDS)
    values["is_authority"] = checkbox(form, "is_authority")
    errors: dict[str, str] = {}
    try:
        data = AgencyCreate.model_validate(
            {
                **_text_or_none(values, CREATE_FIELDS),
                "kind": values["kind"] or "agency",
                "is_authority": values["is_authority"],
            }
        )
    except ValidationError as exc:
        errors = field_errors_from_validation(exc, lang)
    errors.update(_required_errors(request, values, CREATE_REQUIRED))
    form_error = None
    if not errors:
        change = FormChange(session, lang, fields=CREATE_FIELDS + ("is_authority",), errors=errors)
        with change:
            agency = service.create_agency(session, data, by=by)
        if change.ok:
            return RedirectResponse(f"/agencies/{agency.code}?created=1", status_code=303)
        form_error = change.form_error
    return _agency_form(
        request,
        session,
        by,
        mode="create",
        values=values,
        errors=errors,
        form_error=form_error,
        status_code=422 if errors or form_error else 200,
    )


@router.get("/agencies/{code}", response_class=HTMLResponse)
def agency(code: str, request: Request, session: SessionDep, viewer: Anyone) -> HTMLResponse:
    lang = i18n.lang_of(request)
    a = service.get_agency(session, code)
    reg = service.get_region(session, a.region_code)
    can_edit = viewer is not None and (
        viewer.covers_region(reg.path, "authority") or viewer.in_agency(a.id, "agency_admin")
    )
    return render(
        request,
        "registry/agency.html",
        {
            "active": "agencies",
            "agency": a,
            "agency_name": _name(a, lang),
            "region_name": _name(reg, lang),
            "kind": _kind_name(a.kind, lang),
            "level": i18n.pick(rules.REGION_LEVEL_NAMES.get(a.level, (a.level, a.level)), lang),
            "missing_responsible": _missing_responsible(a),
            # contact details are for signed-in civil servants only, as in the API
            "show_phone": viewer is not None,
            "can_edit": can_edit,
            "can_view_people": viewer is not None and perm.can_view_people_of_agency(viewer, a.id, reg.path),
            "created": request.query_params.get("created") == "1",
            "saved": request.query_params.get("saved") == "1",
        },
    )


def _editable(session: Session, by: Principal, code: str) -> tuple[Agency, bool]:
    """The agency if ``by`` may change it (else 403), and whether ``by`` is an authority over it."""
    a = service.get_agency(session, code)
    path = service.region_path_of(session, a.region_code)
    perm.check_manage_agency(by, a.id, path)
    return a, by.covers_region(path, "authority")


def _current_values(a: Agency) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(a, k) or "" for k in EDIT_FIELDS}
    values.update(is_authority=a.is_authority, active=a.active)
    return values


@router.get("/agencies/{code}/edit", response_class=HTMLResponse)
def edit_agency_form(code: str, request: Request, session: SessionDep, by: Manager) -> HTMLResponse:
    a, is_authority = _editable(session, by, code)
    return _agency_form(
        request, session, by, mode="edit", values=_current_values(a), agency=a, editable=_edit_fields(is_authority)
    )


@router.post("/agencies/{code}/edit", response_class=HTMLResponse)
def edit_agency_submit(code: str, request: Request, session: SessionDep, by: Manager, form: CsrfForm) -> Any:
    lang = i18n.lang_of(request)
    a, is_authority = _editable(session, by, code)
    editable = _edit_fields(is_authority)
    texts = tuple(f for f in EDIT_FIELDS if f in editable)
    values = _current_values(a)
    values.update(form_values(form, texts))
    payload: dict[str, Any] = _text_or_none(values, texts)
    if "kind" in payload:
        payload["kind"] = payload["kind"] or a.kind
    for flag in EDIT_AUTHORITY_FLAGS:
        if flag in editable:
            values[flag] = payload[flag] = checkbox(form, flag)
    errors: dict[str, str] = {}
    try:
        data = AgencyUpdate.model_validate(payload)
    except ValidationError as exc:
        errors = field_errors_from_validation(exc, lang)
    errors.update(_required_errors(request, values, EDIT_REQUIRED))
    form_error = None
    if not errors:
        change = FormChange(session, lang, fields=editable, errors=errors)
        with change:
            service.update_agency(session, a.code, data, by=by)
        if change.ok:
            return RedirectResponse(f"/agencies/{a.code}?saved=1", status_code=303)
        form_error = change.form_error
        a = service.get_agency(session, code)
    return _agency_form(
        request,
        session,
        by,
        mode="edit",
        values=values,
        errors=errors,
        form_error=form_error,
        agency=a,
        editable=editable,
        status_code=422 if errors or form_error else 200,
    )


# --- People and roles of an agency --------------------------------------------------------------

PERSON_FIELDS = ("username", "display_name", "password", "role")
PERSON_REQUIRED = ("username", "display_name", "password", "role")
#: Roles a person is given through an agency's people page (Art 30: its staff and its admin).
PERSON_ROLES = rules.AGENCY_ROLES


def _person_labels(request: Request) -> dict[str, str]:
    _ = translator(request)
    return {
        "username": _("用户名"),
        "display_name": _("姓名"),
        "password": _("初始密码"),
        "role": _("角色"),
        "csrf_token": _("表单令牌"),
        "name": _("客户端名称"),
    }


def _can_manage(session: Session, viewer: Principal | None, a: Agency) -> bool:
    """An authority over the agency's region or the agency's own admin (``check_manage_agency``)."""
    if viewer is None:
        return False
    path = service.region_path_of(session, a.region_code)
    return viewer.covers_region(path, "authority") or viewer.in_agency(a.id, "agency_admin")


def _people_page(
    request: Request,
    session: Session,
    by: Principal,
    code: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    a = service.get_agency(session, code)
    people = []
    for person, grants in service.list_people(session, by=by, agency=a.code):
        roles = [
            i18n.pick(rules.ROLE_NAMES.get(g.role, (g.role, g.role)), lang) for g in grants if g.agency_code == a.code
        ]
        people.append(
            {
                "username": person.username,
                "display_name": person.display_name,
                "active": person.active,
                "roles": roles,
                "is_viewer": by.kind == "person" and by.id == person.id,
            }
        )
    order = PERSON_FIELDS
    errors = dict(sorted((errors or {}).items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    return render(
        request,
        "registry/people.html",
        {
            "active": "agencies",
            "agency": a,
            "agency_name": _name(a, lang),
            "people": people,
            "can_add": _can_manage(session, by, a),
            "values": values or {"username": "", "display_name": "", "role": "agency_staff"},
            "errors": errors,
            "form_error": form_error,
            "labels": _person_labels(request),
            "role_options": [(r, i18n.pick(rules.ROLE_NAMES[r], lang)) for r in PERSON_ROLES],
            "added": request.query_params.get("added") or None,
            "changed": request.query_params.get("changed") or None,
            "changed_to": request.query_params.get("to") or None,
            "reset": request.query_params.get("reset") or None,
        },
        status_code=status_code,
    )


@router.get("/agencies/{code}/people", response_class=HTMLResponse)
def agency_people(code: str, request: Request, session: SessionDep, by: SignedIn) -> HTMLResponse:
    """The agency's people and their roles there, as far as the viewer's scope reaches (Art 30)."""
    return _people_page(request, session, by, code)


@router.post("/agencies/{code}/people", response_class=HTMLResponse)
def agency_people_add(code: str, request: Request, session: SessionDep, by: Manager, form: CsrfForm) -> Any:
    lang = i18n.lang_of(request)
    _ = translator(request)
    a = service.get_agency(session, code)
    values = form_values(form, ("username", "display_name", "role"))
    raw_password = form.get("password")
    password = raw_password if isinstance(raw_password, str) else ""
    errors: dict[str, str] = {}
    if values["role"] not in PERSON_ROLES:
        errors["role"] = _("请从列表中选择")
    try:
        data = PersonCreate.model_validate(
            {
                "username": values["username"],
                "display_name": values["display_name"],
                "password": password or None,
                "grants": [
                    GrantCreate(
                        role=values["role"] if values["role"] in PERSON_ROLES else "agency_staff", agency_code=a.code
                    )
                ],
            }
        )
    except ValidationError as exc:
        errors = {**field_errors_from_validation(exc, lang), **errors}
    errors.update(_required_errors(request, {**values, "password": password}, PERSON_REQUIRED))
    form_error = None
    if not errors:
        change = FormChange(session, lang, fields=PERSON_FIELDS, errors=errors)
        with change:  # another agency, or a region outside the authority's: the 403 page (Art 5)
            person = service.create_person(session, data, by=by)
        if change.ok:
            return RedirectResponse(f"/agencies/{a.code}/people?added={person.username}", status_code=303)
        form_error = change.form_error
    return _people_page(
        request, session, by, code, values=values, errors=errors, form_error=form_error, status_code=422
    )


@router.post("/agencies/{code}/people/{username}/active", response_class=HTMLResponse)
def agency_person_active(code: str, username: str, session: SessionDep, by: Manager, form: CsrfForm) -> Any:
    """Deactivate or reactivate one of the agency's people (``active`` = "0" or "1")."""
    a = service.get_agency(session, code)
    active = form.get("active") == "1"
    person = service.set_person_active(session, username, active, by=by)
    state = "active" if active else "inactive"
    return RedirectResponse(f"/agencies/{a.code}/people?changed={person.username}&to={state}", status_code=303)


RESET_FIELDS = ("password", "confirm_password")


def _reset_page(
    request: Request,
    session: Session,
    by: Principal,
    code: str,
    username: str,
    *,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = translator(request)
    lang = i18n.lang_of(request)
    a = service.get_agency(session, code)
    person = service.check_password_reset(session, username, by=by)  # no form for whom one may not reset
    return render(
        request,
        "registry/person_password.html",
        {
            "active": "agencies",
            "agency": a,
            "agency_name": _name(a, lang),
            "person": person,
            "values": {},
            "errors": errors or {},
            "form_error": form_error,
            "min_length": rules.PASSWORD_MIN_LENGTH,
            "labels": {
                "password": _("新的初始密码"),
                "confirm_password": _("再次输入新的初始密码"),
                "csrf_token": _("表单令牌"),
            },
        },
        status_code=status_code,
    )


@router.get("/agencies/{code}/people/{username}/password", response_class=HTMLResponse)
def agency_person_password(code: str, username: str, request: Request, session: SessionDep, by: Manager) -> Any:
    """Set a new initial password for a person who forgot theirs."""
    return _reset_page(request, session, by, code, username)


@router.post("/agencies/{code}/people/{username}/password", response_class=HTMLResponse)
def agency_person_password_submit(
    code: str, username: str, request: Request, session: SessionDep, by: Manager, form: CsrfForm
) -> Any:
    typed, errors = password_fields(request, form, RESET_FIELDS)
    if errors:
        return _reset_page(request, session, by, code, username, errors=errors, status_code=422)
    a = service.get_agency(session, code)
    change = FormChange(session, i18n.lang_of(request), fields=RESET_FIELDS, errors=errors)
    with change:  # outside the manager's scope: the 403 page (Art 5)
        person = service.reset_password(session, username, typed["password"], by=by)
    if not change.ok:
        return _reset_page(
            request, session, by, code, username, errors=errors, form_error=change.form_error, status_code=change.status
        )
    return RedirectResponse(f"/agencies/{a.code}/people?reset={person.username}", status_code=303)


# --- Machine clients of an agency ---------------------------------------------------------------


def _clients_page(
    request: Request,
    session: Session,
    by: Principal,
    code: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    a = service.get_agency(session, code)
    clients = service.list_clients(session, a.code, by=by)
    errors = errors or {}
    return render(
        request,
        "registry/clients.html",
        {
            "active": "agencies",
            "agency": a,
            "agency_name": _name(a, lang),
            "clients": [
                {
                    "id": c.id,
                    "name": c.name,
                    "key_hint": c.key_hint,
                    "created": local_time(c.created_at),
                    "revoked": local_time(c.revoked_at) if c.revoked_at else None,
                }
                for c in clients
            ],
            "values": values or {"name": ""},
            "errors": errors,
            "form_error": form_error,
            "labels": _person_labels(request),
            "revoked": request.query_params.get("revoked") == "1",
        },
        status_code=status_code,
    )


@router.get("/agencies/{code}/clients", response_class=HTMLResponse)
def agency_clients(code: str, request: Request, session: SessionDep, by: Manager) -> HTMLResponse:
    """The agency's machine clients: for an authority over its region or its own admin."""
    return _clients_page(request, session, by, code)


@router.post("/agencies/{code}/clients", response_class=HTMLResponse)
def agency_clients_add(code: str, request: Request, session: SessionDep, by: Manager, form: CsrfForm) -> Any:
    lang = i18n.lang_of(request)
    a = service.get_agency(session, code)
    values = form_values(form, ("name",))
    errors: dict[str, str] = {}
    try:
        data = ClientCreate.model_validate({"name": values["name"]})
    except ValidationError as exc:
        errors = field_errors_from_validation(exc, lang)
    errors.update(_required_errors(request, values, ("name",)))
    form_error = None
    if not errors:
        change = FormChange(session, lang, fields=("name",), errors=errors)
        with change:
            client, api_key = service.add_client(session, a.code, data.name, by=by)
        if change.ok:
            # The key is shown on this response only: it is never stored, and the page is not cached.
            return render(
                request,
                "registry/client_created.html",
                {
                    "active": "agencies",
                    "agency": a,
                    "agency_name": _name(a, lang),
                    "client": client,
                    "api_key": api_key,
                },
                headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
            )
        form_error = change.form_error
    return _clients_page(
        request, session, by, code, values=values, errors=errors, form_error=form_error, status_code=422
    )


@router.post("/agencies/{code}/clients/{client_id}/revoke")
def agency_client_revoke(
    code: str, client_id: int, session: SessionDep, by: Manager, form: CsrfForm
) -> RedirectResponse:  # noqa: ARG001 - the form carries only the token
    clients = service.list_clients(session, code, by=by)
    if not any(c.id == client_id for c in clients):
        raise NotFound(
            "registry.client.not_found",
            f"客户端 {client_id} 不存在",
            f"Client {client_id} not found",
            field="client_id",
        )
    service.revoke_client(session, client_id, by=by)
    return RedirectResponse(f"/agencies/{code}/clients?revoked=1", status_code=303)
