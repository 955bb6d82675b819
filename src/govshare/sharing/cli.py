"""``govshare sharing``: run the timed work once (overdue, reminders, expiry), recompute
provisional deadlines.

Importing this module registers the sharing domain's calendar listener, so that
``govshare calendar import`` recomputes provisional deadlines as the API's import does.
"""

from __future__ import annotations

import typer
from rich.console import Console

from govshare.core.auth import OPERATOR, SYSTEM_PRINCIPAL
from govshare.core.db import transaction
from govshare.sharing import service

app = typer.Typer(help="数据共享 / Sharing requests, agreements, grants (Art 13, 16-19).", no_args_is_help=True)
out = Console()


@app.command("tick")
def tick() -> None:
    """Run the timed work now, for everything due (whatever the scheduler's last tick)."""
    with transaction() as session:
        result = service.run_timed_work(session, by=SYSTEM_PRINCIPAL)
    out.print(
        f"逾期 overdue: {len(result.overdue)}; 提醒 reminded: {len(result.reminded)}; "
        f"到期 expired: {len(result.expired)}; 重算 recomputed: {len(result.recomputed)}"
    )


@app.command("recompute")
def recompute() -> None:
    """Recompute every provisional deadline against the calendar in force."""
    with transaction() as session:
        changed = service.recompute_provisional(session, by=OPERATOR)
    out.print(f"重算期限 deadlines recomputed: {len(changed)}")
