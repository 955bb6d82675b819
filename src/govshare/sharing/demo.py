"""Demo sharing requests in every state, so ``make run`` shows the workflow at once.

Called by ``govshare demo load`` after the catalog and the exchange. Requests are filed and
answered through the services, as the operator (``system`` in the ledger), at dates relative to
the platform's today (``core.clock``, the training clock included), by the Suzhou civil affairs
bureau (``sz-mzj``, demo people ``demo_sz_staff`` and ``demo_sz_admin``) and the Nanjing one
(``nj-mzj``) from the provincial public security department (``js-gat``) and others:

* pending (personal data, 15 working days), one overdue (conditional, 10 days, long past), one
  provisional (its deadline falls in a year without official calendar data; when the platform's
  date is too early in December for that, it is dated on the first day whose deadline does);
* approved awaiting both signatures, signed by the provider only, signed by both (grant active);
* granted at once (unconditional), refused (filed with the authority), withdrawn, in dispute
  (clock held), a revoked grant and an expired one;
* a negotiation outside the catalog escalated to the provincial authority (Art 13(1)), and a
  request for consent to publish (Art 17).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog.models import CatalogResource
from govshare.core import clock, workdays
from govshare.core.auth import OPERATOR
from govshare.registry.models import Agency
from govshare.sharing import rules, service
from govshare.sharing.schemas import (
    ApproveIn,
    DisputeCreate,
    NegotiationAnswer,
    NegotiationCreate,
    NegotiationPost,
    PublicationCreate,
    RefuseIn,
    RequestCreate,
)

PURPOSE = "审核最低生活保障申请人家庭人口和收入情况"
BASIS = "《社会救助暂行办法》第十一条：县级人民政府民政部门对低保申请进行审核"


@dataclasses.dataclass(frozen=True)
class DemoSharing:
    requests: int
    states: dict[str, int]


def _code(session: Session, name: str, provider: str) -> CatalogResource | None:
    return session.scalar(
        select(CatalogResource)
        .join(Agency, Agency.id == CatalogResource.provider_id)
        .where(CatalogResource.name == name, Agency.code == provider, CatalogResource.status == "published")
    )


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), clock.LEGAL_TZ)


def _file(
    session: Session,
    on: dt.date,
    requester: str,
    resource: CatalogResource,
    items: list[str],
    region: str,
    ends_on: dt.date,
    purpose: str = PURPOSE,
    basis: str = BASIS,
) -> int:
    with clock.frozen(_at(on)):
        return service.create_request(
            session,
            RequestCreate(
                requester=requester,
                resource=resource.code or str(resource.id),
                items=items,
                purpose=purpose,
                legal_basis=basis,
                region_scope=region,
                starts_on=on,
                ends_on=ends_on,
            ),
            by=OPERATOR,
        ).id


def _provisional_day(session: Session, today: dt.date) -> dt.date:
    """Today if a 15-working-day deadline from today falls in a year without calendar data, else
    the first day after today whose deadline does."""
    calendar = workdays.load_calendar(session, from_year=today.year)
    day = today
    for _ in range(800):
        if calendar.add_workdays(day, rules.CLOCK_RULES["sensitive"].workdays).provisional:
            return day
        day += dt.timedelta(days=1)
    return today


def load_demo_sharing(session: Session) -> DemoSharing | None:
    """Load the demo requests; flushes, never commits. None when the catalog entries are missing."""
    population = _code(session, "全省人口基础信息", "js-gat")
    id_cards = _code(session, "居民身份证签发信息", "js-gat")
    migrants = _code(session, "流动人口居住登记信息", "js-gat")
    statistics = _code(session, "人口变动抽样调查汇总数据", "js-tjj")
    if population is None or id_cards is None or migrants is None:
        return None
    today = clock.today()
    cal = workdays.load_calendar(session, from_year=today.year - 1)

    def back(n: int) -> dt.date:  # n working days before today
        day = today
        while cal.workdays_between(day, today) < n:
            day -= dt.timedelta(days=1)
        return day

    year_on = today + dt.timedelta(days=365)
    personal = ["公民身份号码", "姓名", "出生日期"]
    ids: dict[str, int] = {}

    ids["pending"] = _file(session, back(2), "sz-mzj", population, personal, "320500", year_on)
    ids["overdue"] = _file(session, back(25), "nj-mzj", id_cards, ["签发机关", "有效期截止日期"], "320100", year_on)
    service.mark_overdue(session, by=OPERATOR, today=today)
    ids["provisional"] = _file(
        session, _provisional_day(session, today), "sz-mzj", migrants, ["姓名", "居住地址"], "320500", year_on
    )

    ids["awaiting"] = _file(session, back(6), "sz-mzj", migrants, ["公民身份号码", "居住地址"], "320500", year_on)
    with clock.frozen(_at(back(4))):
        service.approve_request(session, ids["awaiting"], ApproveIn(items=["居住地址"]), by=OPERATOR)
    ids["provider_signed"] = _file(session, back(8), "nj-mzj", population, personal, "320100", year_on)
    with clock.frozen(_at(back(5))):
        service.approve_request(session, ids["provider_signed"], ApproveIn(), by=OPERATOR)
        service.sign_agreement(session, _agreement(session, ids["provider_signed"]), by=OPERATOR)
    ids["active"] = _file(session, back(12), "sz-mzj", population, personal, "320500", year_on)
    with clock.frozen(_at(back(9))):
        service.approve_request(session, ids["active"], ApproveIn(region_codes=["320508"]), by=OPERATOR)
        aid = _agreement(session, ids["active"])
        service.sign_agreement(session, aid, by=OPERATOR)
        service.sign_agreement(session, aid, by=OPERATOR)
    if statistics is not None:
        ids["at_once"] = _file(
            session,
            back(3),
            "sz-mzj",
            statistics,
            [i.name for i in _items(session, statistics)],
            "320500",
            year_on,
            purpose="编制苏州市民政事业发展规划",
            basis="《江苏省民政事业发展规划编制办法》",
        )
    ids["refused"] = _file(
        session,
        back(10),
        "nj-mzj",
        migrants,
        ["公民身份号码", "姓名", "居住地址"],
        "320100",
        year_on,
        purpose="社区走访慰问",
        basis="《南京市社区工作办法》",
    )
    with clock.frozen(_at(back(7))):
        service.refuse_request(
            session,
            ids["refused"],
            RefuseIn(ground="personal_privacy", reason="申请用途与低保审核等法定职责无关，所涉居住地址属于个人隐私"),
            by=OPERATOR,
        )
    ids["withdrawn"] = _file(session, back(5), "nj-mzj", population, ["姓名"], "320100", year_on)
    service.withdraw_request(session, ids["withdrawn"], "已通过本市数据共享获得", by=OPERATOR)
    ids["disputed"] = _file(session, back(4), "sz-mzj", id_cards, ["公民身份号码", "有效期截止日期"], "320500", year_on)
    service.open_dispute(
        session,
        ids["disputed"],
        DisputeCreate(kind="personal_privacy", question="身份证有效期是否属于不得共享的个人隐私"),
        by=OPERATOR,
    )
    ids["revoked"] = _file(session, back(30), "nj-mzj", population, ["姓名", "出生日期"], "320100", year_on)
    with clock.frozen(_at(back(28))):
        service.approve_request(session, ids["revoked"], ApproveIn(verify_only=True), by=OPERATOR)
        aid = _agreement(session, ids["revoked"])
        service.sign_agreement(session, aid, by=OPERATOR)
        service.sign_agreement(session, aid, by=OPERATOR)
    grant = service.grant_for_request(session, ids["revoked"])
    if grant is not None:
        service.revoke_grant(session, grant.id, "使用方将核验结果用于申请用途以外的事项（第十七条）", by=OPERATOR)
    ids["expired"] = _file(session, back(60), "sz-mzj", id_cards, ["签发机关"], "320500", back(20))
    with clock.frozen(_at(back(55))):
        service.approve_request(session, ids["expired"], ApproveIn(), by=OPERATOR)
    service.expire_grants(session, by=OPERATOR, today=today)

    # Outside the catalog (Art 13(1)): a negotiation the authority has to take up; Art 17 consent.
    n = service.open_negotiation(
        session,
        NegotiationCreate(
            requester="sz-mzj",
            provider="js-gat",
            subject="特困人员户籍迁移预警信息",
            purpose="特困供养人员动态管理",
            legal_basis="《社会救助暂行办法》第十八条",
            message="请求按月提供特困供养人员的户籍迁出信息",
        ),
        by=OPERATOR,
    )
    service.post_message(session, n.id, NegotiationPost(kind="proposal", body="仅按季度提供迁出人数统计"), by=OPERATOR)
    service.answer_negotiation(
        session, n.id, NegotiationAnswer(agree=False, body="季度统计不能满足动态管理需要"), by=OPERATOR
    )
    active = service.grant_for_request(session, ids["active"])
    if active is not None:
        service.request_publication(
            session,
            active.id,
            PublicationCreate(
                kind="consent", description="在苏州市民政局网站公布低保家庭户数（按街道汇总，不含个人信息）"
            ),
            by=OPERATOR,
        )

    states: dict[str, int] = {}
    for rid in ids.values():
        req = service.get_request(session, rid, viewer=OPERATOR)
        states[req.state] = states.get(req.state, 0) + 1
    return DemoSharing(requests=len(ids), states=states)


def _agreement(session: Session, request_id: int) -> int:
    agreement = service.agreement_for_request(session, request_id)
    assert agreement is not None
    return agreement.id


def _items(session: Session, resource: CatalogResource) -> list:  # type: ignore[type-arg]
    from govshare.catalog import service as catalog_service

    return list(catalog_service.get_resource(session, resource.id).data_items)
