"""Off-platform sharing (Art 14(3)): filings with the authority, periodic statistics, overdue reports.

"因特殊原因未通过共享交换平台实现资源共享的，应当经本级信息化主管部门备案，定期向本级共享交换平台提供资源共享相关统计信息。"

* An agency files a record (resource or data outside the catalog, counterpart, reason, channel)
  with the authority of its region: the filing's ``region_code`` is the agency's region.
* It then owes one statistics report (calls, records, purpose) per reporting period. The Measures
  say only "定期" (periodically); the platform's choice, a setting with monthly as default:
  *calendar* periods (months, quarters, half-years, years), the first being the one in which the
  filing was made, so every filing's statistics line up with the platform's own monthly figures.
* A period's report is due by the Nth working day after the period ends (N = the setting
  ``filing_report_due_workdays``, default 10), counted on the official calendar as every legal
  date here is (``core.workdays``: weekends, public holidays and 调休 make-up days). A report not
  submitted by the end of its due day is overdue. An ended filing still owes the periods up to its
  end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from govshare.catalog.models import CatalogResource
from govshare.core import clock, events, workdays
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.core.paging import Page, paginate
from govshare.exchange import permissions as perm
from govshare.exchange import rules
from govshare.exchange.config import get_exchange_settings
from govshare.exchange.models import ExchangeFiling, ExchangeFilingReport
from govshare.exchange.schemas import FilingCreate, FilingRead, ReportCreate, ReportRead, ResourceRef
from govshare.exchange.service.interfaces import load_resource
from govshare.registry import service as registry_service
from govshare.registry.models import Agency

SUBJECT = "exchange_filing"


def _event(
    session: Session, action: str, filing: ExchangeFiling, agency_code: str, by: Principal, data: dict[str, object]
) -> None:
    events.record(
        session,
        actor=by.actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=filing.id,
        region_code=filing.region_code,
        agency_code=agency_code,
        data=data,
    )


def _own_agency(session: Session, code: str | None, by: Principal) -> Agency:
    if code:
        return registry_service.get_agency(session, code)
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    if len(own) != 1:
        raise InvalidInput(
            "exchange.filing.agency_required", "请指明备案机关", "Name the filing agency", field="agency"
        )
    return registry_service.get_agency(session, own[0])


def file_filing(session: Session, data: FilingCreate, *, by: Principal) -> ExchangeFiling:
    """Art 14(3): record sharing outside the platform with the authority of the agency's region."""
    agency = _own_agency(session, data.agency, by)
    perm.check_file(by, agency.id)
    resource: CatalogResource | None = None
    resource_text = (data.resource_text or "").strip() or None
    if data.resource:
        resource = load_resource(session, data.resource)
        if resource_text:
            raise InvalidInput(
                "exchange.filing.resource_twice",
                "目录资源与目录外数据只能填写一项",
                "give either a catalog entry or data outside the catalog, not both",
                field="resource_text",
            )
    elif not resource_text:
        raise InvalidInput(
            "exchange.filing.resource_required",
            "请填写共享的目录资源或目录外数据的名称",
            "name the catalog entry shared, or the data outside the catalog",
            field="resource",
            article="Art 14(3)",
        )
    counterpart: Agency | None = None
    counterpart_name = (data.counterpart_name or "").strip()
    if data.counterpart:
        counterpart = registry_service.get_agency(session, data.counterpart)
        counterpart_name = counterpart.name
    elif not counterpart_name:
        raise InvalidInput(
            "exchange.filing.counterpart_required",
            "请填写对方机关",
            "name the other agency",
            field="counterpart",
            article="Art 14(3)",
        )
    if counterpart is not None and counterpart.id == agency.id:
        raise InvalidInput(
            "exchange.filing.counterpart_self",
            "对方机关不能是本机关",
            "the other agency cannot be the filing agency itself",
            field="counterpart",
        )
    now = clock.now()
    filing = ExchangeFiling(
        agency_id=agency.id,
        region_code=agency.region_code,
        resource_id=resource.id if resource else None,
        resource_text=resource_text,
        counterpart_id=counterpart.id if counterpart else None,
        counterpart_name=counterpart_name[:200],
        direction=data.direction,
        reason=data.reason.strip(),
        channel=data.channel.strip(),
        report_period=data.report_period or get_exchange_settings().filing_report_period,
        filed_at=now,
        filed_on=clock.today(),
        state="active",
        created_by=by.actor.ref,
    )
    filing.agency, filing.resource, filing.counterpart = agency, resource, counterpart
    session.add(filing)
    session.flush()
    _event(
        session,
        "exchange.filing.filed",
        filing,
        agency.code,
        by,
        {
            "resource_code": resource.code if resource else None,
            "resource_text": resource_text,
            "counterpart": counterpart.code if counterpart else None,
            "counterpart_name": filing.counterpart_name,
            "direction": filing.direction,
            "channel": filing.channel,
            "report_period": filing.report_period,
        },
    )
    return filing


def get_filing(session: Session, filing_id: int, *, viewer: Principal) -> ExchangeFiling:
    filing = session.scalar(
        select(ExchangeFiling)
        .where(ExchangeFiling.id == filing_id)
        .options(
            joinedload(ExchangeFiling.agency),
            joinedload(ExchangeFiling.counterpart),
            joinedload(ExchangeFiling.resource),
        )
    )
    if filing is None or not perm.can_read(
        viewer, filing.agency_id, registry_service.region_path_of(session, filing.region_code)
    ):
        raise NotFound(
            "exchange.filing.not_found", f"备案 {filing_id} 不存在", f"Filing {filing_id} not found", field="filing_id"
        )
    return filing


def end_filing(session: Session, filing_id: int, reason: str, *, by: Principal) -> ExchangeFiling:
    """The off-platform sharing stopped: no further periods are owed after today's."""
    filing = get_filing(session, filing_id, viewer=by)
    perm.check_file(by, filing.agency_id)
    if filing.state == "ended":
        raise Conflict("exchange.filing.ended", "该备案已终止", "The filing has already ended", field="filing_id")
    reason = reason.strip()
    if not rules.END_REASON_MIN <= len(reason) <= rules.END_REASON_MAX:
        raise InvalidInput(
            "exchange.filing.end_reason_required",
            f"请写明终止原因（{rules.END_REASON_MIN} 至 {rules.END_REASON_MAX} 个字）",
            f"State the reason for ending ({rules.END_REASON_MIN} to {rules.END_REASON_MAX} characters)",
            field="reason",
            article="Art 14(3)",
        )
    filing.state, filing.ended_on, filing.end_reason = "ended", clock.today(), reason
    session.flush()
    _event(session, "exchange.filing.ended", filing, filing.agency.code, by, {"ended_on": filing.ended_on})
    return filing


# --- Periods and reports --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Owed:
    filing: ExchangeFiling
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    provisional: bool


def _last_day(filing: ExchangeFiling, today: dt.date) -> dt.date:
    return min(filing.ended_on, today) if filing.ended_on else today


def owed_periods(filing: ExchangeFiling, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Periods of the filing that have begun by ``today`` (and before it ended)."""
    return rules.periods_between(filing.filed_on, _last_day(filing, today), filing.report_period)


def _due(calendar: workdays.Calendar, period_end: dt.date) -> workdays.DeadlineResult:
    return calendar.add_workdays(period_end, get_exchange_settings().filing_report_due_workdays)


def submit_report(session: Session, filing_id: int, data: ReportCreate, *, by: Principal) -> ExchangeFilingReport:
    """Art 14(3): the statistics of one period (calls, records, purpose). A period can be reported
    once it has ended; each period once."""
    filing = get_filing(session, filing_id, viewer=by)
    perm.check_file(by, filing.agency_id)
    today = clock.today()
    start, end = rules.period_of(data.period_start, filing.report_period)
    if start != data.period_start:
        raise InvalidInput(
            "exchange.report.period_start",
            f"统计期应从 {start} 开始（{filing.report_period}）",
            f"the period starts on {start} ({filing.report_period})",
            field="period_start",
            article="Art 14(3)",
        )
    if (start, end) not in owed_periods(filing, today):
        raise InvalidInput(
            "exchange.report.period_outside",
            "该统计期不在备案的有效期内",
            "this period lies outside the filing's time",
            field="period_start",
            article="Art 14(3)",
        )
    if end >= today:
        raise InvalidInput(
            "exchange.report.period_not_ended",
            f"统计期 {start} 至 {end} 尚未结束",
            f"the period {start} to {end} has not ended yet",
            field="period_start",
            article="Art 14(3)",
        )
    if session.scalar(
        select(ExchangeFilingReport.id).where(
            ExchangeFilingReport.filing_id == filing.id, ExchangeFilingReport.period_start == start
        )
    ):
        raise Conflict(
            "exchange.report.exists",
            f"统计期 {start} 已报送",
            f"the period {start} was reported already",
            field="period_start",
        )
    calendar = workdays.load_calendar(session, from_year=end.year)
    due = _due(calendar, end)
    report = ExchangeFilingReport(
        filing_id=filing.id,
        period_start=start,
        period_end=end,
        calls=data.calls,
        records=data.records,
        purpose=data.purpose.strip(),
        submitted_at=clock.now(),
        submitted_on=today,
        due_on=due.deadline,
        submitted_by=by.actor.ref,
        submitted_by_name=by.actor.name[:200],
    )
    session.add(report)
    try:
        session.flush()
    except IntegrityError:  # a concurrent submission of the same period
        raise Conflict(
            "exchange.report.exists",
            f"统计期 {start} 已报送",
            f"the period {start} was reported already",
            field="period_start",
        ) from None
    _event(
        session,
        "exchange.filing.report_submitted",
        filing,
        filing.agency.code,
        by,
        {
            "period_start": start,
            "period_end": end,
            "calls": data.calls,
            "records": data.records,
            "due_on": due.deadline,
            "late": today > due.deadline,
        },
    )
    return report


def list_reports(session: Session, filing_id: int, *, viewer: Principal) -> list[ExchangeFilingReport]:
    filing = get_filing(session, filing_id, viewer=viewer)
    return list(
        session.scalars(
            select(ExchangeFilingReport)
            .where(ExchangeFilingReport.filing_id == filing.id)
            .order_by(ExchangeFilingReport.period_start)
        )
    )


def _reported(session: Session, filing_ids: Sequence[int]) -> dict[int, set[dt.date]]:
    out: dict[int, set[dt.date]] = {i: set() for i in filing_ids}
    if filing_ids:
        for fid, start in session.execute(
            select(ExchangeFilingReport.filing_id, ExchangeFilingReport.period_start).where(
                ExchangeFilingReport.filing_id.in_(list(filing_ids))
            )
        ):
            out[fid].add(start)
    return out


def overdue_for(session: Session, filings: Sequence[ExchangeFiling], today: dt.date) -> list[Owed]:
    """The reports of ``filings`` past their due day and not submitted, oldest first."""
    if not filings:
        return []
    first_year = min(f.filed_on.year for f in filings)
    calendar = workdays.load_calendar(session, from_year=first_year)
    reported = _reported(session, [f.id for f in filings])
    out = []
    for filing in filings:
        for start, end in owed_periods(filing, today):
            if end >= today or start in reported[filing.id]:
                continue
            due = _due(calendar, end)
            if today > due.deadline:
                out.append(Owed(filing, start, end, due.deadline, due.provisional))
    out.sort(key=lambda o: (o.due_on, o.filing.id))
    return out


def _filings_stmt(viewer: Principal):  # type: ignore[no-untyped-def]
    return (
        select(ExchangeFiling)
        .where(perm.readable_condition(viewer, ExchangeFiling.agency_id, ExchangeFiling.region_code))
        .options(
            joinedload(ExchangeFiling.agency),
            joinedload(ExchangeFiling.counterpart),
            joinedload(ExchangeFiling.resource),
        )
    )


def list_filings(
    session: Session,
    *,
    viewer: Principal,
    agency: str | None = None,
    state: str | None = None,
    region: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[ExchangeFiling]:
    stmt = _filings_stmt(viewer).order_by(ExchangeFiling.id.desc())
    if agency:
        stmt = stmt.where(ExchangeFiling.agency_id == registry_service.get_agency(session, agency).id)
    if state:
        stmt = stmt.where(ExchangeFiling.state == state)
    if region:
        root = registry_service.get_region(session, region)
        stmt = stmt.where(registry_service.in_subtrees(ExchangeFiling.region_code, [root.path]))
    return paginate(session, stmt, offset=offset, limit=limit, unique=True)


def overdue_reports(
    session: Session, *, viewer: Principal, region: str | None = None, agency: str | None = None
) -> list[Owed]:
    """Every overdue report the viewer may see (authorities: their regions; agencies: their own)."""
    stmt = _filings_stmt(viewer)
    if agency:
        stmt = stmt.where(ExchangeFiling.agency_id == registry_service.get_agency(session, agency).id)
    if region:
        root = registry_service.get_region(session, region)
        stmt = stmt.where(registry_service.in_subtrees(ExchangeFiling.region_code, [root.path]))
    filings = list(session.scalars(stmt).unique())
    return overdue_for(session, filings, clock.today())


# --- Read models ----------------------------------------------------------------------------------


def filing_reads(session: Session, filings: Sequence[ExchangeFiling]) -> list[FilingRead]:
    today = clock.today()
    ids = [f.id for f in filings]
    counts = (
        dict(
            session.execute(
                select(ExchangeFilingReport.filing_id, func.count())
                .where(ExchangeFilingReport.filing_id.in_(ids))
                .group_by(ExchangeFilingReport.filing_id)
            ).all()
        )
        if ids
        else {}
    )
    overdue: dict[int, int] = {}
    for o in overdue_for(session, filings, today):
        overdue[o.filing.id] = overdue.get(o.filing.id, 0) + 1
    out = []
    for f in filings:
        r = f.resource
        out.append(
            FilingRead(
                id=f.id,
                agency=f.agency.code,
                agency_name=f.agency.name,
                region_code=f.region_code,
                resource=ResourceRef(id=r.id, code=r.code, name=r.name) if r else None,
                resource_text=f.resource_text,
                counterpart=f.counterpart.code if f.counterpart else None,
                counterpart_name=f.counterpart_name,
                direction=f.direction,
                reason=f.reason,
                channel=f.channel,  # type: ignore[arg-type]
                report_period=f.report_period,
                state=f.state,
                filed_at=f.filed_at,  # type: ignore[arg-type]
                filed_on=f.filed_on,
                ended_on=f.ended_on,
                end_reason=f.end_reason,
                reports=counts.get(f.id, 0),
                overdue=overdue.get(f.id, 0),
            )
        )
    return out


def report_read(r: ExchangeFilingReport) -> ReportRead:
    return ReportRead(
        id=r.id,
        filing_id=r.filing_id,
        period_start=r.period_start,
        period_end=r.period_end,
        calls=r.calls,
        records=r.records,
        purpose=r.purpose,
        submitted_at=r.submitted_at,
        submitted_on=r.submitted_on,
        due_on=r.due_on,
        late=r.submitted_on > r.due_on,
        submitted_by_name=r.submitted_by_name,
    )


def subject_of(filing: ExchangeFiling) -> str:
    if filing.resource is not None:
        return filing.resource.name
    return filing.resource_text or ""
