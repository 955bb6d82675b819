"""Demo data: Jiangsu province, its 13 cities, some counties, agencies and one person per role.

``govshare demo load`` fills an empty database through the registry services (so every row has
its event, acted by ``system``) in one transaction: either all of it lands or none of it.

Region codes are real GB/T 2260 codes. Agency names follow the real departments; their USCCs are
made up but valid (GB 32100 check character), built deterministically with
:func:`govshare.registry.rules.make_uscc`. Responsible persons are fictional names. A few agencies
deliberately lack the Art 30 responsible unit and person, so that list is not empty in the demo.

Demo people (password = ``demo-<role>-2026``; sign in at http://127.0.0.1:8000/login):

============================  ===============  =================  ============================
user name                     role             scope              password
============================  ===============  =================  ============================
``demo_authority``            authority        320000 江苏省       ``demo-authority-2026``
``demo_supervisor``           supervisor       320000 江苏省       ``demo-supervisor-2026``
``demo_secrecy_admin``        secrecy_admin    320000 江苏省       ``demo-secrecy-admin-2026``
``demo_agency_admin``         agency_admin     js-gat 省公安厅     ``demo-agency-admin-2026``
``demo_agency_staff``         agency_staff     js-gat 省公安厅     ``demo-agency-staff-2026``
``demo_sz_authority``         authority        320500 苏州市       ``demo-sz-authority-2026``
``demo_sz_staff``             agency_staff     sz-mzj 苏州市民政局 ``demo-sz-staff-2026``
``demo_sz_admin``             agency_admin     sz-mzj 苏州市民政局 ``demo-sz-admin-2026``
============================  ===============  =================  ============================
"""

from __future__ import annotations

import dataclasses
from typing import Any

import typer
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from govshare.core.auth import OPERATOR
from govshare.core.events import Event
from govshare.registry import rules, service
from govshare.registry.models import Region
from govshare.registry.schemas import AgencyCreate, GrantCreate, PersonCreate, RegionCreate

LOGIN_URL = "http://127.0.0.1:8000/login"

# --- Regions (GB/T 2260) ------------------------------------------------------------------------

PROVINCE = ("320000", "江苏省", "Jiangsu Province", "js")

#: (code, name, English name, short slug used in agency codes)
CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("320100", "南京市", "Nanjing", "nj"),
    ("320200", "无锡市", "Wuxi", "wx"),
    ("320300", "徐州市", "Xuzhou", "xz"),
    ("320400", "常州市", "Changzhou", "cz"),
    ("320500", "苏州市", "Suzhou", "sz"),
    ("320600", "南通市", "Nantong", "nt"),
    ("320700", "连云港市", "Lianyungang", "lyg"),
    ("320800", "淮安市", "Huai'an", "ha"),
    ("320900", "盐城市", "Yancheng", "yc"),
    ("321000", "扬州市", "Yangzhou", "yz"),
    ("321100", "镇江市", "Zhenjiang", "zj"),
    ("321200", "泰州市", "Taizhou", "tz"),
    ("321300", "宿迁市", "Suqian", "sq"),
)

#: (code, name, English name, slug). The parent city is the code's first four digits + "00".
COUNTIES: tuple[tuple[str, str, str, str], ...] = (
    ("320102", "玄武区", "Xuanwu District", "xuanwu"),
    ("320104", "秦淮区", "Qinhuai District", "qinhuai"),
    ("320106", "鼓楼区", "Gulou District", "gulou"),
    ("320115", "江宁区", "Jiangning District", "jiangning"),
    ("320213", "梁溪区", "Liangxi District", "liangxi"),
    ("320281", "江阴市", "Jiangyin", "jiangyin"),
    ("320282", "宜兴市", "Yixing", "yixing"),
    ("320382", "邳州市", "Pizhou", "pizhou"),
    ("320412", "武进区", "Wujin District", "wujin"),
    ("320481", "溧阳市", "Liyang", "liyang"),
    ("320506", "吴中区", "Wuzhong District", "wuzhong"),
    ("320508", "姑苏区", "Gusu District", "gusu"),
    ("320581", "常熟市", "Changshu", "changshu"),
    ("320582", "张家港市", "Zhangjiagang", "zhangjiagang"),
    ("320583", "昆山市", "Kunshan", "kunshan"),
    ("320681", "启东市", "Qidong", "qidong"),
    ("320682", "如皋市", "Rugao", "rugao"),
    ("320722", "东海县", "Donghai County", "donghai"),
    ("320830", "盱眙县", "Xuyi County", "xuyi"),
    ("320981", "东台市", "Dongtai", "dongtai"),
    ("321081", "仪征市", "Yizheng", "yizheng"),
    ("321181", "丹阳市", "Danyang", "danyang"),
    ("321281", "兴化市", "Xinghua", "xinghua"),
    ("321322", "沭阳县", "Shuyang County", "shuyang"),
)

# --- Agencies -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    name_en: str
    region_code: str
    kind: str = "agency"  # Art 2: agency | authorised | entrusted
    vertical_system: str | None = None  # Art 5: the provincial system it belongs to
    is_authority: bool = False  # Art 5: the region's competent authority
    responsible_unit: str | None = None  # Art 30
    responsible_person: str | None = None  # Art 30 (fictional names)

    @property
    def org_type(self) -> str:
        """GB 32100 organisation type under registration authority 1 (机构编制): 1 机关, 2 事业单位."""
        return "1" if self.kind == "agency" else "2"


#: Fictional people for the Art 30 responsible-person field.
_NAMES = (
    "王明",
    "李强",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄敏",
    "周杰",
    "吴昊",
    "徐丽",
    "孙涛",
    "马超",
    "朱琳",
    "胡斌",
    "郭峰",
    "何静",
    "高翔",
    "林霞",
    "罗兵",
)

PROVINCIAL_AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency(
        "js-gat",
        "江苏省公安厅",
        "Jiangsu Provincial Department of Public Security",
        "320000",
        vertical_system="public_security",
        responsible_unit="科技信息化处",
        responsible_person="李强",
    ),
    DemoAgency(
        "js-mzt",
        "江苏省民政厅",
        "Jiangsu Provincial Department of Civil Affairs",
        "320000",
        vertical_system="civil_affairs",
        responsible_unit="规划财务处",
        responsible_person="张伟",
    ),
    DemoAgency(
        "js-scjgj",
        "江苏省市场监督管理局",
        "Jiangsu Administration for Market Regulation",
        "320000",
        vertical_system="market_regulation",
        responsible_unit="信息中心",
        responsible_person="陈静",
    ),
    DemoAgency(
        "js-swj",
        "国家税务总局江苏省税务局",
        "Jiangsu Provincial Tax Service, State Taxation Administration",
        "320000",
        vertical_system="taxation",
        responsible_unit="信息中心",
        responsible_person="刘洋",
    ),
    DemoAgency(
        "js-tjj",
        "江苏省统计局",
        "Jiangsu Provincial Bureau of Statistics",
        "320000",
        responsible_unit="数据管理中心",
        responsible_person="杨帆",
    ),
    DemoAgency(
        "js-zrzyt",
        "江苏省自然资源厅",
        "Jiangsu Provincial Department of Natural Resources",
        "320000",
        responsible_unit="科技与信息化处",
        responsible_person="赵磊",
    ),
    DemoAgency(
        "js-rst",
        "江苏省人力资源和社会保障厅",
        "Jiangsu Provincial Department of Human Resources and Social Security",
        "320000",
        vertical_system="human_resources",
        responsible_unit="信息中心",
        responsible_person="黄敏",
    ),
    DemoAgency(
        "js-wjw",
        "江苏省卫生健康委员会",
        "Jiangsu Provincial Health Commission",
        "320000",
        responsible_unit="规划发展与信息化处",
        responsible_person="周杰",
    ),
    DemoAgency(
        "js-jyt",
        "江苏省教育厅",
        "Jiangsu Provincial Department of Education",
        "320000",
        responsible_unit="科学技术与信息化处",
        responsible_person="吴昊",
    ),
    DemoAgency(
        "js-jtt",
        "江苏省交通运输厅",
        "Jiangsu Provincial Department of Transport",
        "320000",
        responsible_unit="科技信息处",
        responsible_person="徐丽",
    ),
    DemoAgency(
        "js-zjt",
        "江苏省住房和城乡建设厅",
        "Jiangsu Provincial Department of Housing and Urban-Rural Development",
        "320000",
        responsible_unit="信息中心",
        responsible_person="孙涛",
    ),
    DemoAgency(
        "js-sthjt",
        "江苏省生态环境厅",
        "Jiangsu Provincial Department of Ecology and Environment",
        "320000",
        responsible_unit="生态环境监测处",
        responsible_person="马超",
    ),
    DemoAgency(
        "js-czt",
        "江苏省财政厅",
        "Jiangsu Provincial Department of Finance",
        "320000",
        responsible_unit="信息网络中心",
        responsible_person="朱琳",
    ),
    # No Art 30 responsible unit and person yet: they show up in the "lacking" list.
    DemoAgency("js-sft", "江苏省司法厅", "Jiangsu Provincial Department of Justice", "320000"),
    DemoAgency("js-ybj", "江苏省医疗保障局", "Jiangsu Provincial Healthcare Security Administration", "320000"),
    # Art 2: an organisation authorised by law (a 事业单位 under the Housing Provident Fund Regulations).
    DemoAgency(
        "js-gjj",
        "江苏省住房公积金管理中心",
        "Jiangsu Housing Provident Fund Management Centre",
        "320000",
        kind="authorised",
        responsible_unit="信息科",
        responsible_person="胡斌",
    ),
    # Art 2: an organisation entrusted by law; runs the platform for the data bureau. No Art 30 person yet.
    DemoAgency("js-dsjzx", "江苏省大数据管理中心", "Jiangsu Big Data Management Centre", "320000", kind="entrusted"),
)

#: City agencies in three cities: (suffix, name template, English template, vertical system).
_CITY_AGENCY_TEMPLATES = (
    ("gaj", "{city}公安局", "{en} Municipal Public Security Bureau", "public_security"),
    ("scjgj", "{city}市场监督管理局", "{en} Administration for Market Regulation", "market_regulation"),
    ("rsj", "{city}人力资源和社会保障局", "{en} Human Resources and Social Security Bureau", "human_resources"),
    ("mzj", "{city}民政局", "{en} Civil Affairs Bureau", "civil_affairs"),
    ("swj", "国家税务总局{city}税务局", "{en} Municipal Tax Service, State Taxation Administration", "taxation"),
)
_CITY_AGENCY_UNITS = {
    "gaj": "科技信息化支队",
    "scjgj": "信息中心",
    "rsj": "信息中心",
    "mzj": "办公室",
    "swj": "信息中心",
}
#: These city agencies have not named their Art 30 responsible person yet.
_CITY_AGENCIES_WITHOUT_RESPONSIBLE = {"wx-mzj", "nj-swj"}
CITIES_WITH_AGENCIES = ("320100", "320500", "320200")


def _region_rows() -> list[tuple[str, str, str, str | None, str]]:
    """(code, name, English name, parent code, slug) for every demo region, parents first."""
    rows: list[tuple[str, str, str, str | None, str]] = [(*PROVINCE[:3], None, PROVINCE[3])]
    rows += [(code, name, en, PROVINCE[0], slug) for code, name, en, slug in CITIES]
    rows += [(code, name, en, code[:4] + "00", slug) for code, name, en, slug in COUNTIES]
    return rows


def _authorities() -> list[DemoAgency]:
    """Art 5: one competent authority (信息化主管部门, here the data bureau) per demo region."""
    city_slug = {code: slug for code, _n, _e, slug in CITIES}
    out = []
    for i, (code, name, en, parent, slug) in enumerate(_region_rows()):
        level = rules.region_level_of(code)
        if level == "province":
            agency_code, unit = f"{slug}-sjj", "数据资源处"
            name_en = "Jiangsu Provincial Data Bureau"
        elif level == "city":
            agency_code, unit = f"{slug}-sjj", "数据资源科"
            name_en = f"{en} Municipal Data Bureau"
        else:
            assert parent is not None
            agency_code, unit = f"{city_slug[parent]}-{slug}-sjj", "数据资源股"
            name_en = f"{en.removesuffix(' District').removesuffix(' County')} Data Bureau"
        out.append(
            DemoAgency(
                agency_code,
                f"{name}数据局",
                name_en,
                code,
                is_authority=True,
                responsible_unit=unit,
                responsible_person=_NAMES[i % len(_NAMES)],
            )
        )
    return out


def _city_agencies() -> list[DemoAgency]:
    cities = {code: (name, en, slug) for code, name, en, slug in CITIES}
    out = []
    for n, code in enumerate(CITIES_WITH_AGENCIES):
        city, en, slug = cities[code]
        for m, (suffix, zh, en_t, vertical) in enumerate(_CITY_AGENCY_TEMPLATES):
            agency_code = f"{slug}-{suffix}"
            responsible = agency_code not in _CITY_AGENCIES_WITHOUT_RESPONSIBLE
            out.append(
                DemoAgency(
                    agency_code,
                    zh.format(city=city),
                    en_t.format(en=en),
                    code,
                    vertical_system=vertical,
                    responsible_unit=_CITY_AGENCY_UNITS[suffix] if responsible else None,
                    responsible_person=_NAMES[(7 * n + m + 3) % len(_NAMES)] if responsible else None,
                )
            )
    return out


def demo_agencies() -> list[DemoAgency]:
    """Every demo agency, in load order: authorities, provincial agencies, city agencies."""
    return _authorities() + list(PROVINCIAL_AGENCIES) + _city_agencies()


def _usccs(agencies: list[DemoAgency]) -> dict[str, str]:
    """A valid, deterministic USCC per agency: registration 1 (机构编制), type 1 机关 / 2 事业单位,
    the region code, and an organisation code numbered within the region."""
    numbered: dict[str, int] = {}
    out = {}
    for a in agencies:
        n = numbered[a.region_code] = numbered.get(a.region_code, 0) + 1
        out[a.code] = rules.make_uscc("1", a.org_type, a.region_code, f"{a.region_code[2:]}{n:04d}")
    return out


# --- People -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    role: str
    password: str
    region_code: str | None = None
    agency_code: str | None = None

    @property
    def scope(self) -> str:
        return self.agency_code or self.region_code or ""


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "demo_authority",
        "演示·江苏省数据局 / Demo provincial authority",
        "authority",
        "demo-authority-2026",
        region_code="320000",
    ),
    DemoPerson(
        "demo_supervisor",
        "演示·省级监督人员 / Demo provincial supervisor",
        "supervisor",
        "demo-supervisor-2026",
        region_code="320000",
    ),
    DemoPerson(
        "demo_secrecy_admin",
        "演示·省保密行政管理部门 / Demo secrecy administration",
        "secrecy_admin",
        "demo-secrecy-admin-2026",
        region_code="320000",
    ),
    DemoPerson(
        "demo_agency_admin",
        "演示·省公安厅共享负责人 / Demo agency admin (public security)",
        "agency_admin",
        "demo-agency-admin-2026",
        agency_code="js-gat",
    ),
    DemoPerson(
        "demo_agency_staff",
        "演示·省公安厅工作人员 / Demo agency staff (public security)",
        "agency_staff",
        "demo-agency-staff-2026",
        agency_code="js-gat",
    ),
    DemoPerson(
        "demo_sz_authority",
        "演示·苏州市数据局 / Demo Suzhou authority",
        "authority",
        "demo-sz-authority-2026",
        region_code="320500",
    ),
    # The requesting side of the sharing demo (sharing/demo.py).
    DemoPerson(
        "demo_sz_staff",
        "演示·苏州市民政局工作人员 / Demo Suzhou civil affairs staff",
        "agency_staff",
        "demo-sz-staff-2026",
        agency_code="sz-mzj",
    ),
    DemoPerson(
        "demo_sz_admin",
        "演示·苏州市民政局共享负责人 / Demo Suzhou civil affairs admin",
        "agency_admin",
        "demo-sz-admin-2026",
        agency_code="sz-mzj",
    ),
)


# --- Loading ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemoCredential:
    username: str
    role: str
    scope: str
    scope_name: str
    password: str
    token: str


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    regions: int
    agencies: int
    authorities: int
    people: int
    events: int
    credentials: tuple[DemoCredential, ...]
    catalog_published: int = 0
    guide_services: int = 0
    hosted_rows: int = 0
    sharing_requests: int = 0
    #: The exchange gateway's demo client (exchange.gateway.demo.GatewayDemo), if a grant is active.
    gateway: Any = None
    #: The proxied demo resource (exchange.demo_provider.DemoProvider), if attached.
    provider: Any = None


class DemoNotEmpty(Exception):
    """The registry already holds regions: loading the demo again would duplicate or clash."""


def registry_is_empty(session: Session) -> bool:
    return session.scalar(select(Region.code).limit(1)) is None


def load(session: Session) -> DemoSummary:
    """Load the demo into an empty registry through the services; flushes, never commits.

    Raises :class:`DemoNotEmpty` when any region exists.
    """
    if not registry_is_empty(session):
        raise DemoNotEmpty
    events_before = session.scalar(select(func.count()).select_from(Event)) or 0

    for code, name, name_en, parent, _slug in _region_rows():
        service.create_region(
            session, RegionCreate(code=code, name=name, name_en=name_en, parent_code=parent), by=OPERATOR
        )

    agencies = demo_agencies()
    usccs = _usccs(agencies)
    names = {}
    for a in agencies:
        created = service.create_agency(
            session,
            AgencyCreate(
                code=a.code,
                uscc=usccs[a.code],
                name=a.name,
                name_en=a.name_en,
                region_code=a.region_code,
                kind=a.kind,
                vertical_system=a.vertical_system,
                is_authority=a.is_authority,  # type: ignore[arg-type]
                responsible_unit=a.responsible_unit,
                responsible_person=a.responsible_person,
            ),
            by=OPERATOR,
        )
        names[created.code] = created.name
    region_names = {code: name for code, name, *_ in _region_rows()}

    credentials = []
    for p in DEMO_PEOPLE:
        service.create_person(
            session,
            PersonCreate(
                username=p.username,
                display_name=p.display_name,
                password=p.password,
                grants=[GrantCreate(role=p.role, region_code=p.region_code, agency_code=p.agency_code)],  # type: ignore[arg-type]
            ),
            by=OPERATOR,
        )
        _token, secret = service.issue_token(session, p.username, name="demo", by=OPERATOR)
        scope_name = names[p.agency_code] if p.agency_code else region_names[p.scope]
        credentials.append(DemoCredential(p.username, p.role, p.scope, scope_name, p.password, secret))

    # The catalog and the service guide point at the agencies above, so they come last.
    from govshare.catalog.demo import load_demo_catalog
    from govshare.guide.demo import load_demo_guide

    catalog = load_demo_catalog(session)
    guide_services = load_demo_guide(session)
    from govshare.exchange.demo import load_demo_exchange

    hosted = load_demo_exchange(session)
    from govshare.sharing.demo import load_demo_sharing

    sharing = load_demo_sharing(session)
    from govshare.exchange.gateway.demo import load_demo_gateway

    gateway = load_demo_gateway(session)
    from govshare.exchange.demo_provider import load_demo_provider

    provider = load_demo_provider(session)
    # Quality last: it links the items of every entry above and reconciles the hosted residents.
    from govshare.quality.demo import load_demo_quality

    load_demo_quality(session)

    events_after = session.scalar(select(func.count()).select_from(Event)) or 0
    return DemoSummary(
        regions=len(region_names),
        agencies=len(agencies),
        authorities=sum(a.is_authority for a in agencies),
        people=len(DEMO_PEOPLE),
        events=events_after - events_before,
        credentials=tuple(credentials),
        catalog_published=catalog.published,
        guide_services=guide_services,
        hosted_rows=hosted.rows if hosted else 0,
        sharing_requests=sharing.requests if sharing else 0,
        gateway=gateway,
        provider=provider,
    )


def load_cli(if_empty: bool) -> None:
    """``govshare demo load [--if-empty]``: load, then print the demo credentials.

    With ``--if-empty`` a non-empty registry is left alone (exit 0); without it, a non-empty
    registry is refused (exit 1) rather than loaded twice.
    """
    from govshare.core.db import transaction

    out = Console(soft_wrap=True)  # lines stay whole at any width (a folded token cannot be copied)
    err = Console(stderr=True)
    skipped = "[yellow]已有行政区划数据，跳过演示数据加载 / the registry already has data; demo load skipped[/yellow]"
    refused = (
        "[red]数据库中已有行政区划数据，拒绝重复加载演示数据（如仅需在空库时加载，请加 --if-empty）"
        " / the registry already has data; refusing to load the demo twice"
        " (use --if-empty to skip)[/red]"
    )
    try:
        with transaction() as session:
            summary = load(session)
    except DemoNotEmpty:
        if if_empty:
            out.print(skipped)
            return
        err.print(refused)
        raise typer.Exit(1) from None
    except IntegrityError:
        # PostgreSQL: another loader committed the same rows while this one ran (SQLite serialises
        # writers, so there the emptiness check already saw them). Everything here rolled back.
        with transaction() as session:
            if registry_is_empty(session):
                raise
        if if_empty:
            out.print(skipped)
            return
        err.print(refused)
        raise typer.Exit(1) from None
    except (OperationalError, ProgrammingError) as exc:
        if "region" not in str(exc.orig):
            raise
        err.print(
            "[red]数据库尚未初始化，请先运行 govshare db upgrade / "
            "the database has no schema yet: run `govshare db upgrade` first[/red]"
        )
        raise typer.Exit(1) from None

    out.print(
        f"[green]已加载演示数据 / demo loaded:[/green] {summary.regions} 个行政区划 regions, "
        f"{summary.agencies} 个机关 agencies（其中信息化主管部门 {summary.authorities} authorities）, "
        f"{summary.people} 个演示用户 people, {summary.catalog_published} 条已发布目录 published catalog "
        f"entries, {summary.guide_services} 项服务指引 guide services, {summary.hosted_rows} 行托管数据 hosted "
        f"rows, {summary.events} 条事件 events"
    )
    # One line per account, never wrapped or cut by Rich whatever the terminal width (a table cut
    # the passwords at 80 columns): the terminal may fold a long line, but it stays whole to copy.
    out.print("演示账号 / Demo accounts:")
    for line in credential_lines(summary.credentials):
        out.print(line, markup=False, highlight=False)
    base = platform_base()
    out.print(f"登录 / sign in: {base}/login")
    out.print("API 令牌（仅显示一次）/ API bearer tokens (shown once):")
    for c in summary.credentials:
        out.print(f"  {c.username}: {c.token}", markup=False, highlight=False)
    if summary.gateway is not None:
        g = summary.gateway
        out.print(
            f"交换网关演示客户端（{g.agency_code}，仅显示一次）/ exchange gateway demo client of {g.agency_code} "
            "(key shown once):",
            markup=False,
            highlight=False,
        )
        out.print("  " + g.curl(base), markup=False, highlight=False)
        p = summary.provider
        if p is not None and g.agency_code == p.consumer_code:
            out.print(
                "  代理接口（平台自带的演示提供方）/ proxied resource (the platform's own demo provider):",
                markup=False,
                highlight=False,
            )
            out.print("  " + p.curl(base, g.key), markup=False, highlight=False)


def platform_base() -> str:
    """Where the printed lines point: the platform serves the demo provider itself, so the
    provider's address (``make run`` sets it from its port) names the platform's too."""
    from govshare.exchange.config import get_exchange_settings

    url = get_exchange_settings().demo_provider_url.rstrip("/")
    return url.removesuffix("/demo-provider") if url.endswith("/demo-provider") else LOGIN_URL.removesuffix("/login")


def credential_lines(credentials: tuple[DemoCredential, ...]) -> list[str]:
    """``  user  角色 role: ...  范围 scope: ...  密码 password: ...``, one line per account."""
    return [
        f"  {c.username}  角色 role: {rules.ROLE_NAMES[c.role][0]} / {c.role}  "
        f"范围 scope: {c.scope} {c.scope_name}  密码 password: {c.password}"
        for c in credentials
    ]
