"""The ``govshare`` command. Each domain adds its own sub-commands."""

from __future__ import annotations

import enum
import os
import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from govshare.catalog import cli as catalog_cli
from govshare.core import calendar_cli
from govshare.core.errors import DomainError
from govshare.registry import cli as registry_cli
from govshare.sharing import cli as sharing_cli
from govshare.supervision import cli as ledger_cli

app = typer.Typer(
    help="govshare — 政务信息资源共享交换平台 / government data-sharing platform.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库 / Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="演示数据 / Demo data.", no_args_is_help=True)
supervision_app = typer.Typer(help="监督 / Supervision (Art 31-34).", no_args_is_help=True)
supervision_app.add_typer(ledger_cli.app, name="ledger")
gateway_app = typer.Typer(help="交换网关 / Exchange gateway (Art 14-17).", no_args_is_help=True)

# Platform commands, then one group per domain.
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(calendar_cli.app, name="calendar", help="法定工作日 / Legal working-day calendar.")
app.add_typer(registry_cli.app, name="registry")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(sharing_cli.app, name="sharing")
app.add_typer(supervision_app, name="supervision")
app.add_typer(gateway_app, name="gateway")
# Short forms kept from before the grouping: govshare users|tokens|clients|agencies|regions|ledger.
for _name, _group in registry_cli.GROUPS.items():
    app.add_typer(_group, name=_name, hidden=True)
app.add_typer(ledger_cli.app, name="ledger", hidden=True)

err = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "heads") -> None:
    """Apply migrations (to GOVSHARE_DATABASE_URL, default var/govshare.db)."""
    from govshare.core.config import get_settings
    from govshare.core.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"database at {revision}: {_safe_url(url)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "base") -> None:
    """Revert migrations (default: all of them)."""
    from govshare.core.migrate import downgrade

    downgrade(None, revision)
    typer.echo(f"database at {revision}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when the registry has data")] = False,
) -> None:
    """Load the demo region, agencies and one person per role (prints their credentials)."""
    from govshare import demo

    demo.load_cli(if_empty=if_empty)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (use PostgreSQL for more than one)")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Serve the API, portal and docs."""
    import uvicorn

    from govshare.core.config import get_settings

    if workers > 1 and get_settings().is_sqlite:
        err.print(
            "[yellow]提示：SQLite 仅适合单进程；多进程请使用 PostgreSQL (GOVSHARE_DATABASE_URL)。"
            " / note: SQLite suits one worker; use PostgreSQL for several.[/yellow]"
        )
    typer.echo(f"govshare on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "govshare.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=os.environ.get("GOVSHARE_LOG_LEVEL", "info"),
        **SERVER_OPTIONS,
    )


class GatewayServer(enum.StrEnum):
    """The HTTP server of `govshare gateway serve`."""

    granian = "granian"
    uvicorn = "uvicorn"


class GatewayRecorder(enum.StrEnum):
    """Who commits the call records of `govshare gateway serve`."""

    process = "process"
    thread = "thread"


@gateway_app.command("serve")
def gateway_serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8001,
    workers: Annotated[int, typer.Option(help="Worker processes (use PostgreSQL for more than one)")] = 1,
    server: Annotated[
        GatewayServer, typer.Option(help="HTTP server: granian (RSGI, measured faster) or uvicorn (ASGI)")
    ] = GatewayServer.granian,
    recorder: Annotated[
        GatewayRecorder,
        typer.Option(help="Who commits call records: one process for all workers, or a thread in each"),
    ] = GatewayRecorder.process,
) -> None:
    """Serve the exchange gateway alone (/exchange/v1), without the API and portal."""
    typer.echo(f"govshare gateway on http://{host}:{port}/exchange/v1/ ({server.value}, recorder: {recorder.value})")
    if recorder is GatewayRecorder.process:
        # One writer process commits the records of every worker (exchange.gateway.writer):
        # measured against a thread per worker in docs/benchmarks.md.
        from govshare.exchange.gateway import writer

        with writer.running():
            _serve_gateway(host, port, workers, server)
    else:
        _serve_gateway(host, port, workers, server)


def _serve_gateway(host: str, port: int, workers: int, server: GatewayServer) -> None:
    if server is GatewayServer.granian:
        # granian parses and writes HTTP in Rust and calls the gateway through RSGI, its native
        # interface: about 10 % more recorded calls/s than uvicorn on the same machine and load
        # (docs/benchmarks.md). Proxy headers are not read by either server.
        from granian import Granian
        from granian.constants import Interfaces, Loops
        from granian.log import LogLevels

        level = os.environ.get("GOVSHARE_LOG_LEVEL", "warning").lower()
        Granian(
            "govshare.exchange.gateway.app:create_gateway_app",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.RSGI,
            loop=Loops.uvloop,
            log_level=LogLevels(level) if level in {lv.value for lv in LogLevels} else LogLevels.warning,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        "govshare.exchange.gateway.app:create_gateway_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=os.environ.get("GOVSHARE_LOG_LEVEL", "warning"),
        access_log=False,
        **SERVER_OPTIONS,
    )


#: uvicorn's own proxy-header handling stays off: left on (its default), it believes
#: ``X-Forwarded-For`` from any connection from 127.0.0.1 (``forwarded_allow_ips``), so behind a
#: local proxy that passes the client's header through, or through any local tunnel, a client could
#: name its own address and escape the sign-in throttle. The app applies the headers itself, and only
#: from the proxies listed in ``GOVSHARE_TRUSTED_PROXIES`` (``app.create_app``).
SERVER_OPTIONS: dict[str, object] = {"proxy_headers": False}


def main() -> None:
    try:
        app()
    except ValidationError as exc:
        for e in exc.errors():
            field = ".".join(str(x) for x in e.get("loc", ()))
            err.print(f"[red]输入有误 / invalid input[/red] {field}: {e.get('msg')}")
        sys.exit(2)
    except DomainError as exc:
        err.print(
            f"[red]错误 / error[/red] {exc.code}: {exc.title_zh} / {exc.title_en}"
            + (f" ({exc.article})" if exc.article else "")
            + (f"\n{exc.detail}" if exc.detail else "")
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
