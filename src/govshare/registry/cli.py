"""Registry commands: ``govshare registry users|tokens|clients|agencies|regions`` (each also answers
at the top level, ``govshare users ...``, as it did before the commands were grouped by domain)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.registry import service
from govshare.registry.schemas import AgencyCreate, GrantCreate, PersonCreate

out = Console()

users = typer.Typer(help="人员与角色 / People and roles.", no_args_is_help=True)
tokens = typer.Typer(help="个人 API 令牌 / Personal API tokens.", no_args_is_help=True)
clients = typer.Typer(help="机关机器客户端 / Agency machine clients.", no_args_is_help=True)
agencies = typer.Typer(help="机关名录 / Agencies.", no_args_is_help=True)
regions = typer.Typer(help="行政区划 / Regions.", no_args_is_help=True)


#: ``govshare registry``: the domain's commands.
app = typer.Typer(help="登记：行政区划、机关、人员、令牌、客户端 / Registry (Art 1-5, 30-31).", no_args_is_help=True)
GROUPS = {"users": users, "tokens": tokens, "clients": clients, "agencies": agencies, "regions": regions}
for _name, _group in GROUPS.items():
    app.add_typer(_group, name=_name)


@users.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (login)")],
    role: Annotated[str, typer.Option(help="agency_staff | agency_admin | authority | supervisor | secrecy_admin")],
    agency: Annotated[str | None, typer.Option(help="Agency code or USCC (agency roles)")] = None,
    region: Annotated[str | None, typer.Option(help="Region code, e.g. 320000 (region roles)")] = None,
    password: Annotated[str | None, typer.Option(help="Portal password (at least 8 characters)")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the portal and the ledger")] = None,
) -> None:
    """Add a person with a role, or give an existing person another role."""
    grant = GrantCreate.model_validate({"role": role, "agency_code": agency, "region_code": region})
    with transaction() as session:
        try:
            service.get_person(session, name)
        except Exception:
            data = PersonCreate(username=name, display_name=display_name or name, password=password, grants=[grant])
            service.create_person(session, data, by=OPERATOR)
            typer.echo(f"added {name} as {role}")
            return
        service.grant_role(session, name, grant, by=OPERATOR)
        if password:
            service.set_password(session, name, password, by=OPERATOR)
        typer.echo(f"granted {role} to {name}")


@users.command("deactivate")
def users_deactivate(name: Annotated[str, typer.Argument(help="User name (login)")]) -> None:
    """Deactivate a person: their sessions end and their tokens are revoked for good; their records stay."""
    with transaction() as session:
        service.set_person_active(session, name, False, by=OPERATOR)
    typer.echo(f"deactivated {name}")


@users.command("reactivate")
def users_reactivate(name: Annotated[str, typer.Argument(help="User name (login)")]) -> None:
    """Reactivate a deactivated person (their old tokens and sessions stay ended)."""
    with transaction() as session:
        service.set_person_active(session, name, True, by=OPERATOR)
    typer.echo(f"reactivated {name}")


@users.command("list")
def users_list() -> None:
    """List people and their roles."""
    table = Table("username", "name", "roles", "state")
    with transaction() as session:
        for person, grants in service.list_people(session, by=OPERATOR):
            table.add_row(
                person.username,
                person.display_name,
                ", ".join(f"{g.role}@{g.agency_code or g.region_code}" for g in grants),
                "active" if person.active else "deactivated",
            )
    out.print(table)


@tokens.command("issue")
def tokens_issue(
    name: Annotated[str, typer.Argument(help="User name")],
    label: Annotated[str, typer.Option(help="What the token is for")] = "cli",
) -> None:
    """Issue a bearer token (valid GOVSHARE_TOKEN_TTL_DAYS days); it is printed once, alone on the last line."""
    with transaction() as session:
        _token, secret = service.issue_token(session, name, name=label, by=OPERATOR)
    typer.echo(f"令牌仅显示一次，请妥善保存 / shown once, store it now: {name}")
    typer.echo(secret)


@tokens.command("list")
def tokens_list(name: Annotated[str, typer.Argument(help="User name")]) -> None:
    """List a person's tokens, newest first: hint, dates and state (the tokens themselves are not kept)."""
    table = Table("id", "name", "hint", "created", "expires", "state")
    with transaction() as session:
        for t in service.list_tokens(session, name, by=OPERATOR):
            table.add_row(
                str(t.id),
                t.name,
                (t.token_hint + "…") if t.token_hint else "—",
                t.created_at.isoformat(timespec="seconds"),
                t.expires_at.isoformat(timespec="seconds"),
                service.token_state(t),
            )
    out.print(table)


@tokens.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="Token id (see tokens list)")]) -> None:
    """Revoke a token at once."""
    with transaction() as session:
        t = service.revoke_token(session, token_id, by=OPERATOR)
    typer.echo(f"revoked token {t.id} ({t.name})")


@clients.command("add")
def clients_add(
    agency_code: Annotated[str, typer.Argument(help="Agency code or USCC")],
    name: Annotated[str, typer.Argument(help="Client name, e.g. the calling system")],
) -> None:
    """Add a machine client; its API key is printed once, alone on the last line."""
    with transaction() as session:
        client, key = service.add_client(session, agency_code, name, by=OPERATOR)
    typer.echo(f"client {client.id} for {agency_code}; 密钥仅显示一次 / key shown once:")
    typer.echo(key)


@clients.command("list")
def clients_list(agency_code: Annotated[str, typer.Argument(help="Agency code or USCC")]) -> None:
    """List an agency's clients."""
    table = Table("id", "name", "key", "created", "revoked")
    with transaction() as session:
        for c in service.list_clients(session, agency_code, by=OPERATOR):
            table.add_row(
                str(c.id),
                c.name,
                c.key_hint + "…",
                c.created_at.isoformat(timespec="seconds"),
                c.revoked_at.isoformat(timespec="seconds") if c.revoked_at else "",
            )
    out.print(table)


@clients.command("revoke")
def clients_revoke(client_id: Annotated[int, typer.Argument(help="Client id")]) -> None:
    """Revoke a client's key at once."""
    with transaction() as session:
        c = service.revoke_client(session, client_id, by=OPERATOR)
    typer.echo(f"revoked client {c.id} ({c.name})")


@agencies.command("list")
def agencies_list(
    region: Annotated[str | None, typer.Option(help="Region code (includes regions below)")] = None,
    missing_responsible: Annotated[
        bool, typer.Option(help="Only agencies lacking an Art 30 responsible person")
    ] = False,
) -> None:
    """List agencies."""
    table = Table("code", "name", "region", "kind", "responsible (Art 30)")
    with transaction() as session:
        rows, total = service.list_agencies(
            session, region=region, missing_responsible=missing_responsible, limit=10_000
        )
        for a in rows:
            table.add_row(
                a.code, a.name, a.region_code, a.kind, f"{a.responsible_unit or '—'} / {a.responsible_person or '—'}"
            )
    out.print(table)
    typer.echo(f"{total} agencies")


@agencies.command("add")
def agencies_add(
    code: Annotated[str, typer.Argument(help="Short code")],
    uscc: Annotated[str, typer.Argument(help="Unified social credit code (18)")],
    name: Annotated[str, typer.Argument(help="Name in Chinese")],
    region: Annotated[str, typer.Option(help="Region code")],
    kind: Annotated[str, typer.Option(help="agency | authorised | entrusted")] = "agency",
    authority: Annotated[bool, typer.Option(help="The region's competent authority")] = False,
    responsible_unit: Annotated[str | None, typer.Option(help="Art 30 internal unit")] = None,
    responsible_person: Annotated[str | None, typer.Option(help="Art 30 person")] = None,
) -> None:
    """Register an agency."""
    data = AgencyCreate.model_validate(
        {
            "code": code,
            "uscc": uscc,
            "name": name,
            "region_code": region,
            "kind": kind,
            "is_authority": authority,
            "responsible_unit": responsible_unit,
            "responsible_person": responsible_person,
        }
    )
    with transaction() as session:
        a = service.create_agency(session, data, by=OPERATOR)
    typer.echo(f"registered {a.code} ({a.name})")


@regions.command("list")
def regions_list(under: Annotated[str | None, typer.Option(help="Only this region and below")] = None) -> None:
    """List regions as a tree."""
    with transaction() as session:
        for r in service.list_regions(session, under=under):
            depth = r.path.count("/")
            out.print("  " * depth + f"{r.code} {r.name}")
