"""Ledger benchmark: appends, proofs and full verification (issue 3, Art 32).

Prints one table: each figure, the baseline measured in the same run, their ratio, the target and
whether it is met, then the machine. Uses its own databases: a SQLite file in a temporary folder
and a PostgreSQL database ``govshare_bench_ledger`` created (and dropped) on the server named by
``GOVSHARE_BENCH_POSTGRES_URL`` (default: the local server's ``test`` database as admin).

    .venv/bin/python benchmarks/ledger.py                 # everything (about 10 minutes here)
    .venv/bin/python benchmarks/ledger.py --events 100000 # smaller tree for the proof/verify part
    .venv/bin/python benchmarks/ledger.py --skip-sqlite-million

Appends go through ``core.events.record`` inside real transactions (``core.db.transaction``), one
client or two client processes, one, ten or a hundred events a committed transaction; the baseline
is a plain one-row INSERT per committed transaction through the same session stack, measured just
before each figure; each pair is measured three times and the medians are reported. The
million-event tree is generated with bulk inserts of rows written as the application writes them
(canonical bytes, data text) and integrated by the real integrator (``supervision.service.integrate``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

_tmp = Path(tempfile.mkdtemp(prefix="govshare-bench-ledger-"))
os.environ.setdefault("GOVSHARE_VAR_DIR", str(_tmp / "var"))
os.environ["GOVSHARE_LEDGER_BACKGROUND"] = "false"

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from govshare.core import canonical, db, events  # noqa: E402
from govshare.core.config import reset_settings  # noqa: E402
from govshare.core.migrate import upgrade  # noqa: E402
from govshare.supervision import merkle, service  # noqa: E402
from govshare.supervision import verify as ledger_verify  # noqa: E402

PG_ADMIN_URL = os.environ.get("GOVSHARE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DB = "govshare_bench_ledger"

rows_out: list[tuple[str, str, str, str, str, str]] = []


def row(
    figure: str,
    value: float,
    unit: str,
    baseline_name: str,
    baseline: float,
    target: str = "",
    met: bool | None = None,
    higher_is_better: bool = True,
) -> None:
    ratio = value / baseline if baseline else float("nan")
    verdict = "" if met is None else ("met" if met else "NOT met")
    rows_out.append(
        (
            figure,
            f"{value:,.3f} {unit}" if value < 100 else f"{value:,.0f} {unit}",
            f"{baseline_name}: {baseline:,.3f} {unit}"
            if baseline < 100
            else f"{baseline_name}: {baseline:,.0f} {unit}",
            f"{ratio:.2f}x",
            target,
            verdict,
        )
    )
    print(
        f"  {figure}: {rows_out[-1][1]} (baseline {rows_out[-1][2]}, {ratio:.2f}x) {target} {verdict}",
        file=sys.stderr,
        flush=True,
    )


# --- databases ------------------------------------------------------------------------------


def use(url: str) -> None:
    os.environ["GOVSHARE_DATABASE_URL"] = url
    reset_settings()
    db.dispose_engine()


def make_postgres() -> str:
    admin = make_url(PG_ADMIN_URL)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    engine.dispose()
    return admin.set(database=PG_DB).render_as_string(hide_password=False)


def drop_postgres() -> None:
    db.dispose_engine()
    engine = create_engine(make_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    engine.dispose()


def prepare(url: str) -> None:
    use(url)
    upgrade(url)
    with db.transaction() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS bench_plain (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)"))


def reset() -> None:
    engine = db.get_engine()
    tables = ["ledger_checkpoint", "ledger_node", "ledger_state", "event", "event_head", "bench_plain"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables)))
        else:
            for t in tables:
                conn.execute(text(f"DELETE FROM {t}"))
        conn.execute(text("INSERT INTO event_head (id, next_seq) VALUES (1, 0)"))
        conn.execute(text("INSERT INTO ledger_state (id, tree_size) VALUES (1, 0)"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


# --- appends --------------------------------------------------------------------------------
#
# Every append figure is measured ROUNDS times, each time right after its baseline, and the
# medians are reported: on this shared virtual machine two runs a minute apart differed by 1.5x.
# Concurrent clients are processes (the app runs as several server processes; threads of one
# Python process share one interpreter lock and measure that lock instead).

ROUNDS = 3


def plain_insert(n: int, first: int = 0) -> None:
    """The baseline: ``n`` transactions of one 200-byte row through the same session stack."""
    for i in range(first, first + n):
        with db.transaction() as s:
            s.execute(text("INSERT INTO bench_plain (id, payload) VALUES (:i, :p)"), {"i": i, "p": "x" * 200})


def record_events(n: int, per_tx: int = 1) -> None:
    """``n`` events through ``core.events.record``, ``per_tx`` to a committed transaction."""
    for k in range(0, n, per_tx):
        with db.transaction() as s:
            for j in range(per_tx):
                events.record(
                    s,
                    actor=events.SYSTEM,
                    action="bench.append",
                    subject_type="resource",
                    subject_id=k + j,
                    data={"rows": 100, "purpose": "基准测试", "hash": "ab" * 32},
                    region_code="320500",
                    agency_code="sz-sj",
                )


_plain_next = 0


def plain_rate(n: int) -> float:
    global _plain_next
    _plain_next += n
    started = time.perf_counter()
    plain_insert(n, _plain_next - n)
    return n / (time.perf_counter() - started)


def record_rate(n: int, per_tx: int) -> float:
    started = time.perf_counter()
    record_events(n, per_tx)
    return n / (time.perf_counter() - started)


def _client(url: str, kind: str, n: int, per_tx: int, first: int, start_at: float) -> float:
    """One client process: wait for the common start, then run; returns its seconds."""
    use(url)
    with db.transaction() as s:  # connect before the clock starts
        s.execute(text("SELECT 1"))
    while time.time() < start_at:
        time.sleep(0.0005)
    started = time.perf_counter()
    if kind == "plain":
        plain_insert(n, first)
    else:
        record_events(n, per_tx)
    return time.perf_counter() - started


CLIENTS = 2


def processes_rate(pool: ProcessPoolExecutor, url: str, kind: str, n: int, per_tx: int = 1) -> float:
    """Operations per second of ``CLIENTS`` processes of ``pool`` each doing ``n`` (rows or events)."""
    global _plain_next
    start_at = time.time() + 0.3
    futures = []
    for _ in range(CLIENTS):
        futures.append(pool.submit(_client, url, kind, n, per_tx, _plain_next, start_at))
        _plain_next += n
    return n * CLIENTS / max(f.result() for f in futures)


def median_pair(rounds: int, baseline: Callable[[], float], measured: Callable[[], float]) -> tuple[float, float]:
    """Medians of ``rounds`` alternating measurements of the baseline and of the figure."""
    base, value = [], []
    for _ in range(rounds):
        base.append(baseline())
        value.append(measured())
    return statistics.median(base), statistics.median(value)


def inline_integrate(session) -> None:  # type: ignore[no-untyped-def]
    """Design alternative (a): extend the tree in the event's own transaction, just before commit."""
    service.integrate(session)


def bench_appends(backend: str, url: str, n: int) -> None:
    pg = backend == "PostgreSQL"
    target = "≥ 5,000/s" if pg else ""
    reset()
    plain, one = median_pair(ROUNDS, lambda: plain_rate(n), lambda: record_rate(n, 1))
    row(
        f"{backend}: appends/s, 1 event/transaction, 1 client",
        one,
        "/s",
        "plain 1-row INSERT commits",
        plain,
        "(bounded by commits/s)" if pg else "",
    )
    plain, hundred = median_pair(ROUNDS, lambda: plain_rate(n), lambda: record_rate(n * 5, 100))
    row(
        f"{backend}: appends/s, 100 events/transaction, 1 client",
        hundred,
        "/s",
        "plain 1-row INSERT commits",
        plain,
        target,
        (hundred >= 5000) if pg else None,
    )
    with ProcessPoolExecutor(CLIENTS, mp_context=multiprocessing.get_context("spawn")) as pool:
        plain2, ten = median_pair(
            ROUNDS,
            lambda: processes_rate(pool, url, "plain", n),
            lambda: processes_rate(pool, url, "events", n * 2, 10),
        )
        row(
            f"{backend}: appends/s, 10 events/transaction, {CLIENTS} client processes",
            ten,
            "/s",
            f"plain 1-row INSERT commits, {CLIENTS} processes",
            plain2,
            target,
            (ten >= 5000) if pg else None,
        )
        plain2, one2 = median_pair(
            ROUNDS, lambda: processes_rate(pool, url, "plain", n), lambda: processes_rate(pool, url, "events", n, 1)
        )
        row(
            f"{backend}: appends/s, 1 event/transaction, {CLIENTS} client processes",
            one2,
            "/s",
            f"plain 1-row INSERT commits, {CLIENTS} processes",
            plain2,
            "(bounded by commits/s)" if pg else "",
        )
    # Design alternative (a), measured to choose: the tree extended inside each event's transaction.
    with db.transaction() as s:
        service.integrate(s)
    sa_event.listen(Session, "before_commit", inline_integrate)
    try:
        inline = record_rate(n // 2, 1)
    finally:
        sa_event.remove(Session, "before_commit", inline_integrate)
    row(
        f"{backend}: appends/s with the tree extended in the same transaction (design a)",
        inline,
        "/s",
        "appends/s, 1 event/transaction, integrator in batches (design b)",
        one,
    )
    # The batch integrator's own throughput over a backlog.
    record_events(n * 2, per_tx=500)
    started = time.perf_counter()
    with db.transaction() as s:
        result = service.integrate(s)
    integ = result.added / (time.perf_counter() - started)
    row(
        f"{backend}: integrator, events/s (batches of {service.INTEGRATE_BATCH:,})",
        integ,
        "/s",
        "appends/s, 1 event/transaction",
        one,
    )


# --- a million events -----------------------------------------------------------------------


def generate(count: int, chunk: int = 50_000) -> float:
    """Bulk-insert ``count`` events with precomputed canonical bytes; returns seconds."""
    started = time.perf_counter()
    engine = db.get_engine()
    t0 = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    rng = random.Random(7)
    regions = ["320000", "320100", "320500", "320508", None]
    agencies = ["js-dsj", "js-gat", "nj-sj", "sz-sj", None]
    actions = ["catalog.resource.published", "sharing.request.approved", "exchange.call", "registry.person.created"]
    pg = engine.dialect.name == "postgresql"
    for first in range(0, count, chunk):
        batch = []
        for seq in range(first, min(count, first + chunk)):
            k = rng.randrange(5)
            at = t0 + dt.timedelta(milliseconds=seq * 37)
            data = {
                "rows": rng.randrange(10**6),
                "purpose": "办理企业开办审批",
                "sha256": f"{rng.getrandbits(256):064x}",
                "resource": f"R-{rng.randrange(10**5):05d}",
            }
            fields = (
                seq,
                at,
                f"person:{rng.randrange(500)}",
                "王明",
                actions[seq % 4],
                "resource",
                str(rng.randrange(10**5)),
                regions[k],
                agencies[k],
                data,
            )
            leaf = canonical.event_bytes(*fields)
            batch.append((*fields[:9], canonical.json_text(canonical.jsonable(data)), leaf))  # as the app writes it
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            if pg:
                columns = (
                    "seq, occurred_at, actor, actor_name, action, subject_type, subject_id, region_code, "
                    "agency_code, data, canonical"
                )
                with cur.copy(f"COPY event ({columns}) FROM STDIN") as copy:
                    for r in batch:
                        copy.write_row(r)
            else:
                cur.execute("BEGIN")
                cur.executemany(
                    "INSERT INTO event (seq, occurred_at, actor, actor_name, action, subject_type, subject_id, "
                    "region_code, agency_code, data, canonical) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(r[0], r[1].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[2:]) for r in batch],
                )
            cur.execute(f"UPDATE event_head SET next_seq = {min(count, first + chunk)} WHERE id = 1")
            raw.commit()
        finally:
            raw.close()
    return time.perf_counter() - started


def per_proof(fn: Callable[[int], object], values: list[int]) -> float:
    """Mean milliseconds of ``fn(v)`` over ``values``."""
    started = time.perf_counter()
    for v in values:
        fn(v)
    return (time.perf_counter() - started) / len(values) * 1000


def memory_baseline(count: int, indices: list[int], firsts: list[int]) -> tuple[float, float, tuple[object, object]]:
    """Proof times on an in-memory tree of the same leaves (and the first proofs, to cross-check)."""
    with db.transaction() as s:
        leaves = [merkle.leaf_hash(bytes(c)) for (c,) in s.execute(text("SELECT canonical FROM event ORDER BY seq"))]
    tree = merkle.MemoryTree(leaves)
    expected = (tree.inclusion_proof(indices[0], count), tree.consistency_proof(firsts[0], count))
    return (
        per_proof(lambda i: tree.inclusion_proof(i, count), indices),
        per_proof(lambda m: tree.consistency_proof(m, count), firsts),
        expected,
    )


def bench_million(backend: str, count: int, samples: int) -> None:
    reset()
    print(f"  generating {count:,} events on {backend} ...", file=sys.stderr, flush=True)
    gen = generate(count)
    print(f"  generated in {gen:.1f} s; integrating ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    while True:
        with db.transaction() as s:
            result = service.integrate(s, limit=200_000)
        if result.added < 200_000:
            break
    integ = time.perf_counter() - started
    if db.get_engine().dialect.name == "postgresql":
        with db.get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    row(
        f"{backend}: integrate {count:,} events (bulk backlog)",
        count / integ,
        "events/s",
        "bulk generation of the event rows",
        count / gen,
    )

    rng = random.Random(11)
    indices = [rng.randrange(count) for _ in range(samples)]
    firsts = [rng.randrange(1, count) for _ in range(samples)]
    mem_incl, mem_cons, expected = memory_baseline(count, indices, firsts)
    with db.transaction() as s:
        assert service.inclusion_proof(s, indices[0], count) == expected[0]
        assert service.consistency_proof(s, firsts[0], count) == expected[1]
        incl = per_proof(lambda i: service.inclusion_proof(s, i, count), indices)
        cons = per_proof(lambda m: service.consistency_proof(s, m, count), firsts)
    row(
        f"{backend}: inclusion proof at {count:,} events",
        incl,
        "ms",
        "in-memory MemoryTree proof",
        mem_incl,
        "≤ 2 ms",
        incl <= 2,
    )
    row(
        f"{backend}: consistency proof at {count:,} events",
        cons,
        "ms",
        "in-memory MemoryTree proof",
        mem_cons,
        "≤ 2 ms",
        cons <= 2,
    )

    from fastapi.testclient import TestClient

    from govshare.app import create_app

    with TestClient(create_app()) as client:
        started = time.perf_counter()
        for i in indices[:500]:
            r = client.get("/api/v1/ledger/proof/inclusion", params={"index": i, "tree_size": count})
            assert r.status_code == 200
        http = (time.perf_counter() - started) / 500 * 1000
    row(f"{backend}: GET /proof/inclusion in-process (TestClient)", http, "ms", "service-level inclusion proof", incl)

    started = time.perf_counter()
    with ledger_verify.read_snapshot() as conn:
        for start in range(0, count, 65_536):
            ledger_verify._raw_rows(conn, ledger_verify._event_sql(conn.dialect.name, start, start + 65_536))
    floor = time.perf_counter() - started
    cpu_before = _cpu_seconds()
    report = ledger_verify.verify()
    cpu = _cpu_seconds() - cpu_before
    assert report.ok, [str(p) for p in report.problems]
    row(
        f"{backend}: full verify of {count:,} events ({report.jobs} worker processes)",
        report.seconds,
        "s",
        "reading the event rows alone",
        floor,
        "≤ 10 s",
        report.seconds <= 10,
    )
    row(
        f"{backend}: full verify, CPU seconds of our processes (not the database's)",
        cpu,
        "s",
        "wall-clock seconds of the same verify",
        report.seconds,
    )


# --- main -----------------------------------------------------------------------------------


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # finished worker processes
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = ""
    try:
        engine = create_engine(make_url(PG_ADMIN_URL))
        with engine.connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
    except Exception:  # pragma: no cover
        pg = "unavailable"
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg} "
        f"(synchronous_commit on), SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), "
        f"{dt.date.today().isoformat()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=2000, help="transactions per append measurement")
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the proof/verify tree")
    parser.add_argument("--samples", type=int, default=2000, help="proofs timed per kind")
    parser.add_argument("--skip-sqlite-million", action="store_true", help="proofs/verify on PostgreSQL only")
    args = parser.parse_args()

    load_before = os.getloadavg()
    sqlite_url = f"sqlite:///{_tmp / 'bench.db'}"
    pg_url = make_postgres()
    try:
        for backend, url in (("PostgreSQL", pg_url), ("SQLite", sqlite_url)):
            print(f"{backend}:", file=sys.stderr, flush=True)
            prepare(url)
            bench_appends(backend, url, args.appends)
            if backend == "PostgreSQL" or not args.skip_sqlite_million:
                bench_million(backend, args.events, args.samples)
    finally:
        drop_postgres()

    widths = [
        max(len(r[i]) for r in [("figure", "value", "baseline (same run)", "ratio", "target", "")] + rows_out)
        for i in range(6)
    ]
    header = ("figure", "value", "baseline (same run)", "ratio", "target", "")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows_out:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    load_after = os.getloadavg()
    print(f"\nmachine: {machine()}")
    print(
        f"load average (1, 5, 15 min) at start {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}, "
        f"at end {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f} (other work shares the 2 cores)"
    )


if __name__ == "__main__":
    main()
