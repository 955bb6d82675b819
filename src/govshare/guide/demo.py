"""Demo service guide: public services of Jiangsu and the channels that deliver them (Art 20-27).

:func:`load_demo_guide` adds them through the guide service (acted by ``system``, each with its
event) after the registry demo (``govshare.demo``) and, when it is loaded, the catalog demo: a
service is tied to its agency by agency code and to the published catalog entries of the agencies
it relies on whose names contain one of its keywords. Services of agencies that do not exist are
skipped, so the loader also runs against a partial registry.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from govshare.catalog.models import CatalogResource
from govshare.core.auth import OPERATOR
from govshare.guide import service
from govshare.guide.models import GuideService
from govshare.guide.schemas import ChannelIn, ServiceCreate
from govshare.registry.models import Agency

PORTAL = "https://www.jszwfw.gov.cn/"


@dataclasses.dataclass(frozen=True)
class DemoService:
    name: str
    name_en: str
    sector: str
    agency: str
    description: str
    channels: tuple[tuple[str, str | None], ...]
    link_url: str | None = PORTAL
    #: (provider agency code, name keywords) of the catalog entries the service relies on.
    relies_on: tuple[tuple[str, tuple[str, ...]], ...] = ()


SERVICES: tuple[DemoService, ...] = (
    DemoService(
        "社会保险参保信息查询",
        "Social insurance contribution record",
        "social_security",
        "js-rst",
        "查询本人养老、失业、工伤保险参保记录和缴费明细，打印参保证明。",
        (("web", "江苏政务服务网"), ("mobile_app", "苏服办"), ("phone", "12333"), ("counter", "各级社保经办窗口")),
        relies_on=(("js-rst", ("社会保险", "参保", "社保")), ("js-gat", ("人口基础",))),
    ),
    DemoService(
        "苏服办移动政务服务",
        "Sufuban mobile government services",
        "community",
        "js-sjj",
        "江苏省统一的移动政务服务入口，提供证照亮证、社保医保、公积金、交通出行等高频服务。",
        (("mobile_app", "苏服办"), ("web", "江苏政务服务网")),
        relies_on=(("js-gat", ("电子证照",)), ("js-scjgj", ("电子证照",)), ("js-mzt", ("电子证照",))),
    ),
    DemoService(
        "12345 政务服务便民热线",
        "12345 government service hotline",
        "community",
        "js-sjj",
        "受理咨询、求助、投诉、建议，一号对外、全天候人工服务，诉求按职责转办并限时反馈。",
        (("phone", "12345"), ("web", "江苏政务服务网 12345 在线"), ("mobile_app", "苏服办")),
        link_url="https://www.jszwfw.gov.cn/",
    ),
    DemoService(
        "不动产登记",
        "Real estate registration",
        "housing",
        "js-zrzyt",
        "不动产首次登记、转移登记、抵押登记和不动产权证书查询，部分业务“一窗受理、全程网办”。",
        (("counter", "各市县不动产登记中心"), ("web", "江苏政务服务网"), ("mobile_app", "苏服办")),
        relies_on=(("js-zrzyt", ("不动产", "土地")), ("js-swj", ("纳税人登记",))),
    ),
    DemoService(
        "新生儿出生一件事",
        "Newborn: one application for everything",
        "health",
        "js-wjw",
        "一次申请办理出生医学证明、户口登记、医保参保和社保卡申领。",
        (("mobile_app", "苏服办"), ("web", "江苏政务服务网"), ("counter", "助产医疗机构")),
        relies_on=(("js-wjw", ("出生", "妇幼")), ("js-gat", ("人口基础", "户籍")), ("js-ybj", ("医保", "参保"))),
    ),
    DemoService(
        "医保电子凭证与异地就医备案",
        "Medical insurance e-voucher and out-of-town care filing",
        "health",
        "js-ybj",
        "申领医保电子凭证，办理跨省异地就医备案，查询医保个人账户。",
        (("mobile_app", "江苏医保云"), ("web", "江苏政务服务网"), ("phone", "12393")),
        relies_on=(("js-ybj", ("医保", "参保")),),
    ),
    DemoService(
        "住房公积金提取",
        "Housing provident fund withdrawal",
        "housing",
        "js-gjj",
        "购房、租房、退休等情形提取住房公积金，网上申请、审核到账。",
        (
            ("web", "江苏政务服务网"),
            ("mobile_app", "苏服办"),
            ("counter", "公积金管理中心服务大厅"),
            ("phone", "12329"),
        ),
        relies_on=(("js-gjj", ("公积金",)), ("js-zrzyt", ("不动产",))),
    ),
    DemoService(
        "企业开办一件事",
        "Starting a business in one go",
        "market_regulation",
        "js-scjgj",
        "营业执照、公章刻制、发票申领、社保登记和银行开户预约一次办结，一个工作日内完成。",
        (("web", "江苏政务服务网企业开办专区"), ("counter", "政务服务中心企业开办专窗")),
        relies_on=(("js-scjgj", ("市场主体登记", "营业执照")), ("js-swj", ("纳税人登记", "发票"))),
    ),
    DemoService(
        "个人所得税综合所得年度汇算",
        "Annual individual income tax reconciliation",
        "taxation",
        "js-swj",
        "填报综合所得年度汇算，申请退税或补税，查询纳税记录。",
        (("mobile_app", "个人所得税"), ("web", "自然人电子税务局"), ("phone", "12366")),
        link_url="https://etax.chinatax.gov.cn/",
        relies_on=(("js-swj", ("纳税人登记",)),),
    ),
    DemoService(
        "义务教育入学报名",
        "Compulsory education enrolment",
        "education",
        "js-jyt",
        "小学、初中新生网上报名，户籍、房产和社保信息由共享数据自动核验，少交材料。",
        (("web", "各市义务教育入学服务平台"), ("mobile_app", "苏服办")),
        relies_on=(
            ("js-jyt", ("学籍", "义务教育")),
            ("js-gat", ("人口基础", "户籍")),
            ("js-zrzyt", ("不动产",)),
            ("js-rst", ("社会保险", "参保")),
        ),
    ),
    DemoService(
        "高龄津贴与养老服务补贴申请",
        "Old-age allowance and elderly care subsidy",
        "elderly_care",
        "js-mzt",
        "80 周岁以上老年人高龄津贴、经济困难老年人养老服务补贴的申请和发放查询。",
        (("counter", "街道（乡镇）便民服务中心"), ("web", "江苏政务服务网"), ("phone", "12345")),
        relies_on=(("js-mzt", ("养老", "老年")), ("js-gat", ("人口基础",))),
    ),
    DemoService(
        "最低生活保障申请",
        "Minimum living allowance application",
        "civil_affairs",
        "nj-mzj",
        "南京市城乡居民最低生活保障申请，家庭经济状况由民政、人社、不动产等数据比对核查。",
        (("counter", "社区服务中心"), ("mobile_app", "我的南京"), ("web", "江苏政务服务网")),
        relies_on=(
            ("nj-mzj", ("低保", "救助")),
            ("js-mzt", ("最低生活保障",)),
            ("js-zrzyt", ("不动产",)),
            ("js-gjj", ("公积金",)),
        ),
    ),
    DemoService(
        "就业登记与失业登记",
        "Employment and unemployment registration",
        "employment",
        "sz-rsj",
        "苏州市劳动者就业、失业登记，申领失业保险金，查询就业创业补贴。",
        (("web", "江苏政务服务网"), ("mobile_app", "苏周到"), ("counter", "各区人力资源市场")),
        relies_on=(("sz-rsj", ("就业", "失业", "培训")), ("js-rst", ("就业失业", "社会保险"))),
    ),
    DemoService(
        "交通违法处理与驾驶证业务",
        "Traffic violations and driving licence services",
        "public_safety",
        "js-gat",
        "查询和处理交通违法，驾驶证换证、补证和机动车检验预约。",
        (("mobile_app", "交管12123"), ("web", "交通安全综合服务管理平台"), ("counter", "车管所")),
        link_url="https://gab.122.gov.cn/",
        relies_on=(("js-gat", ("驾驶", "机动车", "交通")),),
    ),
    DemoService(
        "空气质量实时发布",
        "Real-time air quality",
        "environment",
        "js-sthjt",
        "全省城市空气质量实时数据和预报，重污染天气预警。",
        (("web", "江苏省生态环境厅网站"), ("mobile_app", "苏服办"), ("tv", "江苏卫视天气预报")),
        relies_on=(("js-sthjt", ("空气", "监测")),),
    ),
    DemoService(
        "公交与长途客运出行信息",
        "Bus and coach travel information",
        "transport",
        "js-jtt",
        "全省长途客运班次、城市公交线路和实时到站查询。",
        (("mobile_app", "苏服办"), ("web", "江苏交通出行服务网"), ("phone", "12328")),
        relies_on=(("js-jtt", ("客运", "公交", "交通")),),
    ),
)


def _resources(session: Session, relies_on: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    codes: list[str] = []
    for provider, keywords in relies_on:
        rows = session.scalars(
            select(CatalogResource.code)
            .join(Agency, Agency.id == CatalogResource.provider_id)
            .where(
                Agency.code == provider,
                CatalogResource.status == "published",
                or_(*[CatalogResource.name.like(f"%{k}%") for k in keywords]),
            )
            .order_by(CatalogResource.code)
            .limit(3)
        )
        codes.extend(c for c in rows if c and c not in codes)
    return codes


def load_demo_guide(session: Session) -> int:
    """Add the demo services whose agency exists; returns how many were added (none twice)."""
    agencies = set(
        session.scalars(
            select(Agency.code).where(Agency.code.in_([s.agency for s in SERVICES]), Agency.active.is_(True))
        )
    )
    existing = {
        (code, name)
        for code, name in session.execute(
            select(Agency.code, GuideService.name).join(Agency, Agency.id == GuideService.agency_id)
        )
    }
    added = 0
    for s in SERVICES:
        if s.agency not in agencies or (s.agency, s.name) in existing:
            continue
        service.create_service(
            session,
            ServiceCreate(
                name=s.name,
                name_en=s.name_en,
                sector=s.sector,
                agency=s.agency,  # type: ignore[arg-type]
                description=s.description,
                link_url=s.link_url,
                channels=[ChannelIn(channel=c, detail=d) for c, d in s.channels],  # type: ignore[arg-type]
                resources=_resources(session, s.relies_on),
            ),
            by=OPERATOR,
        )
        added += 1
    return added
