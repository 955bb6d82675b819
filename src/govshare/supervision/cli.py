"""``govshare supervision ledger`` (short: ``govshare ledger``): checkpoints, verification and export
of the supervision ledger (Art 32, 34)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from govshare.core.db import transaction
from govshare.supervision import service
from govshare.supervision import verify as ledger_verify

app = typer.Typer(help="监督账本 / Supervision ledger (Merkle log of every event).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr over the events stored (on a terminal only), fed with counts done."""
    with ledger_verify.read_snapshot() as conn:  # a read: the application's BEGIN IMMEDIATE would wait for writers
        total = int(conn.exec_driver_sql("SELECT next_seq FROM event_head WHERE id = 1").scalar() or 0)
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def _warn_gap(gap_at: int | None) -> None:
    if gap_at is not None:
        err.print(
            f"[red]事件 {gap_at} 缺失，整合在此停止；请运行 govshare ledger verify / event {gap_at} is "
            "missing; integration stops there: run govshare ledger verify[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint() -> None:
    """Integrate every committed event and sign a checkpoint now; prints the signed note."""
    with transaction() as session:
        result = service.integrate(session)
        cp = service.make_checkpoint(session)
    typer.echo(cp.note, nl=False)
    _warn_gap(result.gap_at)


@app.command("integrate")
def integrate() -> None:
    """Extend the stored tree with every committed event (checkpoints every N events as configured)."""
    total = 0
    while True:
        with transaction() as session:
            result = service.integrate(session, limit=service.TICK_LIMIT)
        total += result.added
        if result.added < service.TICK_LIMIT or result.gap_at is not None:
            break
    typer.echo(f"integrated {total} events; tree size {result.new_size}")
    _warn_gap(result.gap_at)


@app.command("status")
def status() -> None:
    """Events, integrated tree size and the latest checkpoint."""
    with transaction() as session:
        events = service.event_count(session)
        size = service.integrated_size(session)
        cp = service.latest_checkpoint(session)
    typer.echo(f"events:          {events}")
    typer.echo(f"integrated size: {size}")
    if cp is None:
        typer.echo("latest checkpoint: none")
    else:
        typer.echo(f"latest checkpoint: {cp.tree_size} at {cp.created_at.isoformat()}")
    vkey = service.local_vkey()
    typer.echo(f"vkey:            {vkey or 'no signing key yet'}")


@app.command("vkey")
def vkey() -> None:
    """Print the verifier key (creates the signing key on first use)."""
    typer.echo(service.signer().vkey)


@app.command("verify")
def verify(
    vkey_file: Annotated[
        Path | None,
        typer.Option("--vkey", help="Check signatures with this verifier key file instead of the local signing key"),
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Worker processes (default: one per core for large logs)")] = None,
) -> None:
    """Recompute the tree from the stored events and check every node and checkpoint.

    Exits 1 naming the first bad index when anything differs.
    """
    key = vkey_file.read_text(encoding="utf-8").strip() if vkey_file else None
    with _progress("核验 / verifying") as progress:
        report = ledger_verify.verify(vkey=key, jobs=jobs, progress=progress)
    if report.ok:
        out.print(
            f"[green]账本完好 / ledger verified[/green]: {report.events} events, tree size {report.tree_size}, "
            f"{report.nodes} nodes, {report.checkpoints} checkpoints in {report.seconds:.2f} s",
            soft_wrap=True,
        )
        return
    for problem in report.problems:
        err.print(f"[red]错误 / error[/red] {problem}", soft_wrap=True, markup=True, highlight=False)
    if report.first_bad_index is not None:
        err.print(f"first bad index: {report.first_bad_index}", soft_wrap=True, highlight=False)
    raise typer.Exit(1)


@app.command("export")
def export(directory: Annotated[Path, typer.Argument(help="Folder to write (created if missing)")]) -> None:
    """Write DIR/entries.jsonl, DIR/checkpoints/<tree size> and DIR/vkey for offline verification."""
    with _progress("导出 / exporting") as progress:
        report = ledger_verify.export(directory, progress=progress)
    typer.echo(f"exported {report.entries} entries and {report.checkpoints} checkpoints to {report.directory}")


@app.command("verify-export")
def verify_export(directory: Annotated[Path, typer.Argument(help="Folder written by govshare ledger export")]) -> None:
    """Check an exported folder with no database: signatures with DIR/vkey, roots from the entries."""
    report = ledger_verify.verify_export(directory)
    if report.ok:
        out.print(
            f"[green]导出完好 / export verified[/green]: {report.entries} entries, {report.checkpoints} "
            f"checkpoints (largest {report.largest_checkpoint})",
            soft_wrap=True,
        )
        return
    for problem in report.problems:
        err.print(f"[red]错误 / error[/red] {problem}", soft_wrap=True, markup=True, highlight=False)
    raise typer.Exit(1)
