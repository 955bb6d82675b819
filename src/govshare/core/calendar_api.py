"""HTTP endpoints of the legal working-day calendar (``/api/v1/calendar``), open to everyone.

The deadline of Art 15 (20 working days) and Art 18 (15 working days) is public arithmetic: anyone
can check the date an agency must answer by.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, status
from pydantic import BaseModel, Field

from govshare.core import workdays
from govshare.core.auth import Authority, public
from govshare.core.db import SessionDep
from govshare.core.errors import Forbidden

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])


class DeadlineRead(BaseModel):
    deadline: dt.date = Field(description="第 N 个工作日（收到之日不计） / the Nth working day after receipt")
    provisional: bool = Field(
        description="计算用到了尚无官方日历的年份 / a counted day lies in a year without official data"
    )
    uncovered_years: list[int] = Field(description="无官方日历数据的年份 / years without official data")


class CalendarYearRead(BaseModel):
    year: int
    source: str | None
    imported_at: dt.datetime
    holidays: int = Field(description="假日天数 / number of holidays")
    workdays: int = Field(description="调休上班日天数 / number of make-up workdays")


class CalendarYearsRead(BaseModel):
    items: list[CalendarYearRead] = Field(description="导入的年度安排 / imported yearly schedules")
    builtin_first_year: int = Field(description="内置日历数据的首年 / first year of the bundled data")
    builtin_last_year: int = Field(description="内置日历数据的末年 / last year of the bundled data")


@router.get(
    "/deadline",
    response_model=DeadlineRead,
    dependencies=[Depends(public)],
    summary="法定期限 / legal deadline in working days",
)
def get_deadline(
    session: SessionDep,
    from_: Annotated[
        str,
        Query(
            alias="from",
            description="收到之日（不计入），YYYY-MM-DD / day of receipt (not counted), YYYY-MM-DD",
            json_schema_extra={"format": "date"},
            examples=["2025-09-30"],
        ),
    ],
    workdays_: Annotated[
        int,
        Query(
            alias="workdays",
            description=f"工作日数（{workdays.MIN_WORKDAYS}-{workdays.MAX_WORKDAYS}） / "
            f"number of working days ({workdays.MIN_WORKDAYS}-{workdays.MAX_WORKDAYS})",
            json_schema_extra={"minimum": workdays.MIN_WORKDAYS, "maximum": workdays.MAX_WORKDAYS},
            examples=[15],
        ),
    ],
) -> DeadlineRead:
    day = workdays.parse_date(from_, field="from")
    result = workdays.deadline(session, day, workdays_)
    return DeadlineRead(
        deadline=result.deadline, provisional=result.provisional, uncovered_years=result.uncovered_years
    )


@router.get(
    "/years",
    response_model=CalendarYearsRead,
    dependencies=[Depends(public)],
    summary="已导入的年度安排 / imported yearly schedules",
)
def get_years(session: SessionDep) -> CalendarYearsRead:
    return CalendarYearsRead(
        items=[CalendarYearRead.model_validate(y, from_attributes=True) for y in workdays.list_imported_years(session)],
        builtin_first_year=workdays.BUILTIN_YEARS.start,
        builtin_last_year=workdays.BUILTIN_YEARS.stop - 1,
    )


class DayChangeRead(BaseModel):
    date: dt.date
    name: str | None


class ScheduleChangesRead(BaseModel):
    holidays_added: list[DayChangeRead] = Field(description="变为休息日的工作日 / weekdays that become days off")
    holidays_removed: list[DayChangeRead] = Field(description="恢复为工作日的假日 / holidays that become working days")
    workdays_added: list[DayChangeRead] = Field(description="新增调休上班日 / weekend days that become workdays")
    workdays_removed: list[DayChangeRead] = Field(description="取消的调休上班日 / make-up workdays dropped")


class CalendarImportRead(BaseModel):
    year: int
    holidays: int
    workdays: int
    replaced: bool = Field(description="替换了此前导入的该年安排 / replaced an earlier import of the year")
    source: str | None
    sha256: str
    forced: bool = Field(description="按 force=true 删除了法定假日或调休上班日 / removed official days by force")
    changes: ScheduleChangesRead


@router.post(
    "/years",
    response_model=CalendarImportRead,
    status_code=status.HTTP_201_CREATED,
    summary="导入年度放假安排 / import a year's holiday schedule",
)
def import_year(
    session: SessionDep,
    by: Authority,
    payload: Annotated[
        dict[str, object],
        Body(
            description=(
                "与 govshare calendar import 的文件相同 / the same JSON as the file of govshare calendar import"
            ),
            examples=[{"year": 2027, "holidays": {"2027-01-01": "元旦"}, "workdays": {}, "source": "国办发明电"}],
        ),
    ],
    force: Annotated[
        bool,
        Query(
            description="允许删除现行日历中的法定假日或调休上班日 / allow removing "
            "official holidays or make-up workdays of the calendar in force"
        ),
    ] = False,
) -> CalendarImportRead:
    """The national schedule applies to every region, so only a provincial (top-level) authority
    imports it. Refused (409, the changes listed) when it would remove official holidays or make-up
    workdays of the calendar in force, unless ``force=true``."""
    if not by.is_system and not any(g.role == "authority" and "/" not in g.region_path for g in by.grants):
        raise Forbidden(
            "calendar.province_only",
            "仅省级信息化主管部门可导入年度放假安排",
            "Only the provincial competent authority imports holiday schedules",
        )
    summary = workdays.import_schedule(session, payload, actor=by.actor, source="api", force=force)
    return CalendarImportRead.model_validate(dataclasses.asdict(summary))
