"""``govshare calendar``: import yearly holiday schedules and compute legal deadlines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from govshare.core import workdays
from govshare.core.db import transaction
from govshare.core.errors import DomainError
from govshare.core.events import SYSTEM

app = typer.Typer(
    help="法定工作日日历：导入年度放假安排，计算期限 / legal working-day calendar: "
    "import yearly holiday schedules, compute deadlines",
    no_args_is_help=True,
)


def _fail(error: DomainError) -> typer.Exit:
    """Print the refusal on stderr, one line per problem, and exit 1."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    problems = error.extra.get("problems")
    if problems:
        err.print("日历文件有误，未导入任何数据 / invalid calendar file, nothing imported:", markup=False)
        for problem in problems:
            err.print(f"- {problem['message_zh']} / {problem['message_en']}", markup=False)
    else:
        err.print(f"{error.title('zh')} / {error.title('en')}", markup=False)
        changes = error.extra.get("changes")
        if changes:
            for line in workdays.ScheduleChanges(
                **{k: tuple(workdays.DayChange(**d) for d in v) for k, v in changes.items()}
            ).lines():
                err.print(f"- {line}", markup=False)
    return typer.Exit(code=1)


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="年度安排 JSON 文件 / the yearly schedule, a JSON file",
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="允许删除现行日历中的法定假日或调休上班日 / allow removing official "
            "holidays or make-up workdays of the calendar in force",
        ),
    ] = False,
) -> None:
    """导入一年的放假与调休安排（替换该年已有数据） / import a year's schedule (replaces that year).

    A schedule that would remove official holidays or make-up workdays of the calendar in force for
    its year (an earlier import or the bundled chinese_calendar data) is refused unless --force;
    either way the changes are listed."""
    try:
        payload = workdays.parse_schedule_json(file.read_bytes())
        with transaction() as session:
            summary = workdays.import_schedule(session, payload, actor=SYSTEM, source=file.name, force=force)
    except DomainError as exc:
        raise _fail(exc) from None

    out = Console(highlight=False)
    table = Table(title=f"{summary.year} 年日历已导入 / calendar for {summary.year} imported")
    table.add_column("项目 / item")
    table.add_column("值 / value", overflow="fold")
    table.add_row("年份 / year", str(summary.year))
    table.add_row("假日 / holidays", str(summary.holidays))
    table.add_row("调休上班日 / make-up workdays", str(summary.workdays))
    table.add_row("来源 / source", summary.source or "-")
    table.add_row("替换已有数据 / replaced earlier import", "是 / yes" if summary.replaced else "否 / no")
    table.add_row("SHA-256", summary.sha256)
    out.print(table)
    lines = summary.changes.lines()
    out.print(
        "对工作日的改变 / changes to working days:" if lines else "工作日没有改变 / no working day changes",
        markup=False,
    )
    for line in lines:
        out.print(f"- {line}", markup=False)


@app.command("deadline")
def deadline_(
    from_: Annotated[str, typer.Option("--from", help="收到之日（不计入），YYYY-MM-DD / day of receipt, not counted")],
    workdays_: Annotated[int, typer.Option("--workdays", help="工作日数 / number of working days")],
) -> None:
    """打印期限日期（第一行，ISO 格式） / print the deadline, an ISO date on the first line."""
    try:
        day = workdays.parse_date(from_, field="from")
        with transaction() as session:
            result = workdays.deadline(session, day, workdays_)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(result.deadline.isoformat())
    if result.provisional:
        years = ", ".join(str(y) for y in result.uncovered_years)
        typer.echo(
            f"暂定：{years} 年尚无官方日历数据，按周一至周五计算，导入该年安排后请重新计算 / "
            f"provisional: no official calendar for {years}; weekdays counted as working days, "
            "recompute once the year's schedule is imported"
        )
