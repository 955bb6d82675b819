"""``govshare catalog``: import spreadsheets, write a template, search, reindex."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from govshare.core.auth import OPERATOR
from govshare.core.db import transaction

app = typer.Typer(help="共享目录 / Shared catalog (Art 7-10).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".xlsx or .csv")],
    agency: Annotated[
        str | None, typer.Option(help="提供单位代号（文件无“提供单位”列时必填）/ providing agency code")
    ] = None,
    valid_only: Annotated[
        bool, typer.Option("--valid-only", help="只导入无误的行 / import the valid rows only")
    ] = False,
    status: Annotated[str, typer.Option(help="draft | submitted | published")] = "draft",
) -> None:
    """Import catalog entries from a spreadsheet. Nothing is stored from a file with errors unless
    --valid-only is given. Column headers: see `govshare catalog template`."""
    from govshare.catalog import importer

    table = importer.read_file(file)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = "校验 / validating" if phase == "validate" else "入库 / storing"
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done)

        with transaction() as session:
            report = importer.import_table(
                session,
                table,
                agency=agency,
                valid_only=valid_only,
                status=status,
                progress=progress,
                by=OPERATOR,
            )
    if report.errors:
        t = Table("行 row", "列 column", "问题 / problem", "条款 article", title="错误 / errors")
        for e in report.errors:
            t.add_row(str(e.row), e.column or "-", f"{e.message_zh}\n{e.message_en}", e.article or "")
        err.print(t)
    if report.ignored_columns:
        err.print("未识别的列（已忽略）/ ignored columns: " + "、".join(report.ignored_columns))
    if report.stored:
        out.print(
            f"已导入 {report.imported} 条（共 {report.rows} 行，{len(report.errors)} 行有误）"
            f" / imported {report.imported} of {report.rows} rows ({len(report.errors)} with errors)"
        )
    else:
        err.print(
            f"[red]未导入任何条目[/red]：{len(report.errors)} 处错误；修改后重试，或使用 --valid-only 只导入无误的行"
            f" / nothing imported: {len(report.errors)} errors; fix them or use --valid-only"
        )
        raise typer.Exit(1)


@app.command("template")
def template(
    file: Annotated[Path, typer.Argument(help="Where to write the template (.xlsx or .csv)")],
) -> None:
    """Write an import template with the Chinese headers and two example rows."""
    from govshare.catalog import importer

    headers, rows = importer.template_rows()
    if file.suffix.lower() == ".csv":
        import csv

        with file.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows(rows)
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "资源目录"
        ws.append(headers)
        for r in rows:
            ws.append(r)
        wb.save(file)
    out.print(f"模板已写入 / template written: {file}")


@app.command("search")
def search_cmd(
    q: Annotated[str, typer.Argument(help="关键词 / query")],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """Search the published catalog as the public sees it."""
    from govshare.catalog import rules, search

    with transaction() as session:
        result = search.search(session, search.SearchParams(q=q, limit=limit), viewer=None)
        t = Table(
            "代码 code",
            "名称 name",
            "提供单位 provider",
            "共享类型 share type",
            title=f"{result.total} 条 / entries  (分词 tokens: {' '.join(result.tokens)})",
        )
        for r in result.items:
            t.add_row(r.code or "-", r.name, r.provider.name, rules.label(rules.SHARE_TYPES, r.share_type))
    out.print(t)


@app.command("reindex")
def reindex() -> None:
    """Recompute the search text of every entry (after changing the segmentation dictionary)."""
    from govshare.catalog import service

    with transaction() as session:
        n = service.reindex(session)
    out.print(f"已重建 {n} 条目的检索索引 / reindexed {n} entries")
