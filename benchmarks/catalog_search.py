"""Catalog search benchmark: Chinese full-text search with facets over 100,000 entries (issue 4).

Prints one table: p50 and p95 latency of catalog searches with all seven facets counted, on SQLite
(FTS5) and PostgreSQL (GIN over a 'simple' tsvector), each against the baseline measured in the
same run on the same data: a naive substring ``LIKE`` scan of name and abstract with the same
filters and facets. Target: p95 <= 50 ms.

    .venv/bin/python benchmarks/catalog_search.py                  # 100,000 entries, both backends
    .venv/bin/python benchmarks/catalog_search.py --entries 20000 --backends sqlite

Entries are generated deterministically (seed 20261126) from word lists: realistic Chinese names
(place + subject + kind, e.g. 苏州市不动产登记信息), abstracts, data items, providers in 14 regions,
sectors, formats and share types. They are bulk-inserted with the same ``search_text`` the
application computes (``catalog.search.index_tokens``). Every query runs through
``catalog.search.search`` -- the function behind ``GET /api/v1/catalog`` -- as the anonymous public
(published and open entries), including loading the 20 entries of the page.

Databases: a SQLite file in a temporary folder, and a PostgreSQL database
``govshare_bench_catalog`` created (and dropped) on the server named by
``GOVSHARE_BENCH_POSTGRES_URL`` (default: the local server's ``test`` database as admin).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from govshare.core.auth import OPERATOR

_tmp = Path(tempfile.mkdtemp(prefix="govshare-bench-catalog-"))
os.environ.setdefault("GOVSHARE_VAR_DIR", str(_tmp / "var"))

from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from govshare.catalog import rules, search, service  # noqa: E402
from govshare.catalog.models import CatalogResource, CatalogResourceSector  # noqa: E402
from govshare.core import clock, db  # noqa: E402
from govshare.core.migrate import upgrade  # noqa: E402
from govshare.registry import service as registry_service  # noqa: E402
from govshare.registry.rules import make_uscc  # noqa: E402
from govshare.registry.schemas import AgencyCreate, RegionCreate  # noqa: E402

PG_ADMIN_URL = os.environ.get("GOVSHARE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DB = "govshare_bench_catalog"
SEED = 20261126
TARGET_P95_MS = 50.0

# --- Word lists ---------------------------------------------------------------------------------

REGIONS = [
    ("320000", "江苏省", None),
    ("320100", "南京市", "320000"),
    ("320200", "无锡市", "320000"),
    ("320300", "徐州市", "320000"),
    ("320400", "常州市", "320000"),
    ("320500", "苏州市", "320000"),
    ("320600", "南通市", "320000"),
    ("320700", "连云港市", "320000"),
    ("320800", "淮安市", "320000"),
    ("320900", "盐城市", "320000"),
    ("321000", "扬州市", "320000"),
    ("321100", "镇江市", "320000"),
    ("321200", "泰州市", "320000"),
    ("321300", "宿迁市", "320000"),
]
#: (suffix, provincial name, city name template)
AGENCY_KINDS = [
    ("ga", "江苏省公安厅", "{c}公安局"),
    ("sj", "江苏省市场监督管理局", "{c}市场监督管理局"),
    ("rs", "江苏省人力资源和社会保障厅", "{c}人力资源和社会保障局"),
    ("mz", "江苏省民政厅", "{c}民政局"),
    ("sw", "国家税务总局江苏省税务局", "国家税务总局{c}税务局"),
    ("wj", "江苏省卫生健康委员会", "{c}卫生健康委员会"),
    ("jy", "江苏省教育厅", "{c}教育局"),
    ("zr", "江苏省自然资源厅", "{c}自然资源和规划局"),
    ("st", "江苏省生态环境厅", "{c}生态环境局"),
    ("jt", "江苏省交通运输厅", "{c}交通运输局"),
    ("zj", "江苏省住房和城乡建设厅", "{c}住房和城乡建设局"),
    ("cz", "江苏省财政厅", "{c}财政局"),
    ("tj", "江苏省统计局", "{c}统计局"),
    ("yb", "江苏省医疗保障局", "{c}医疗保障局"),
]

#: (subject, classification, category, sectors, agency kind, data items separated by spaces)
SUBJECTS = [
    ("人口", "basic", "population", ["public_safety", "civil_affairs"], "ga", "公民身份号码 姓名 性别 出生日期"),
    ("户籍", "basic", "population", ["public_safety"], "ga", "公民身份号码 户籍地址 户主姓名"),
    ("流动人口", "basic", "population", ["public_safety", "community"], "ga", "公民身份号码 居住地址 登记日期"),
    ("婚姻", "basic", "population", ["civil_affairs"], "mz", "男方姓名 女方姓名 登记日期"),
    ("出生医学证明", "basic", "population", ["health"], "wj", "新生儿姓名 出生日期 签发机构"),
    ("企业", "basic", "legal_entity", ["market_regulation"], "sj", "统一社会信用代码 企业名称 法定代表人 注册资本"),
    ("个体工商户", "basic", "legal_entity", ["market_regulation"], "sj", "统一社会信用代码 字号名称 经营场所"),
    ("社会组织", "basic", "legal_entity", ["civil_affairs"], "mz", "统一社会信用代码 社会组织名称 业务主管单位"),
    ("纳税人", "basic", "legal_entity", ["taxation"], "sw", "纳税人识别号 纳税人名称 主管税务机关"),
    (
        "不动产",
        "basic",
        "natural_resources_geography",
        ["natural_resources", "housing"],
        "zr",
        "不动产单元号 权利人 坐落 权利类型",
    ),
    ("土地利用", "basic", "natural_resources_geography", ["natural_resources"], "zr", "图斑编号 地类 面积"),
    ("地名地址", "basic", "natural_resources_geography", ["natural_resources"], "mz", "地名 标准地址 坐标"),
    ("纳税信用", "basic", "social_credit", ["taxation"], "sw", "纳税人识别号 信用等级 评价年度"),
    ("失信", "basic", "social_credit", ["market_regulation"], "sj", "统一社会信用代码 失信行为 认定日期"),
    ("行政处罚", "basic", "social_credit", ["market_regulation"], "sj", "决定书文号 当事人名称 处罚内容"),
    ("营业执照", "basic", "e_licence", ["market_regulation"], "sj", "统一社会信用代码 名称 证照文件"),
    ("居民身份证", "basic", "e_licence", ["public_safety"], "ga", "公民身份号码 证照照面"),
    ("机动车驾驶证", "basic", "e_licence", ["transport", "public_safety"], "ga", "驾驶证号 准驾车型 有效期"),
    ("医保", "thematic", "social_security", ["health", "social_security"], "yb", "公民身份号码 参保类型 参保状态"),
    ("社会保险", "thematic", "social_security", ["social_security", "employment"], "rs", "公民身份号码 险种 缴费基数"),
    ("养老保险", "thematic", "social_security", ["social_security", "elderly_care"], "rs", "公民身份号码 缴费月数"),
    ("最低生活保障", "thematic", "social_security", ["civil_affairs"], "mz", "公民身份号码 保障金额 家庭人口数"),
    ("就业", "thematic", "public_service", ["employment"], "rs", "公民身份号码 就业状态 登记机构"),
    ("招聘岗位", "thematic", "public_service", ["employment"], "rs", "岗位名称 招聘单位 薪酬范围"),
    ("学籍", "thematic", "public_service", ["education"], "jy", "学籍号 学生姓名 学校名称"),
    ("学校", "thematic", "public_service", ["education"], "jy", "学校名称 学校类型 办学地址"),
    ("健康档案", "thematic", "health", ["health"], "wj", "公民身份号码 既往病史 建档机构"),
    ("疫苗接种", "thematic", "health", ["health"], "wj", "受种者姓名 疫苗名称 接种日期"),
    ("医疗机构", "thematic", "health", ["health"], "wj", "机构名称 机构类别 床位数"),
    ("食品经营", "thematic", "food_drug_safety", ["food_drug"], "sj", "许可证编号 经营者名称 经营项目"),
    ("药品", "thematic", "food_drug_safety", ["food_drug"], "sj", "药品名称 批准文号 生产企业"),
    ("排污", "thematic", "ecology_environment", ["environment"], "st", "排污单位名称 污染物 排放浓度"),
    ("空气质量", "thematic", "ecology_environment", ["environment"], "st", "监测站点 空气质量指数 首要污染物"),
    ("住房公积金", "thematic", "social_security", ["housing"], "zj", "公民身份号码 缴存单位 缴存基数"),
    ("养老机构", "thematic", "public_service", ["elderly_care"], "mz", "机构名称 床位数 服务等级"),
    ("社区网格", "thematic", "community_governance", ["community"], "mz", "网格编码 所属社区 网格员"),
    ("危险化学品", "thematic", "work_safety", ["emergency"], "st", "企业名称 危化品名称 储存量"),
    ("特种设备", "thematic", "work_safety", ["market_regulation", "emergency"], "sj", "设备注册代码 使用单位"),
    ("价格监测", "thematic", "price_supervision", ["market_regulation"], "sj", "商品名称 价格 监测日期"),
    ("建筑工程", "thematic", "urban_rural_construction", ["housing"], "zj", "项目名称 施工单位 开工日期"),
    ("老旧小区", "thematic", "urban_rural_construction", ["housing", "community"], "zj", "小区名称 改造户数"),
    ("应急物资", "thematic", "emergency_response", ["emergency"], "mz", "物资名称 储备地点 数量"),
    ("财政预算", "departmental", None, ["finance"], "cz", "部门名称 预算金额 年度"),
    ("政府采购", "departmental", None, ["finance"], "cz", "项目编号 采购人 成交金额"),
    ("统计年鉴", "departmental", None, ["statistics"], "tj", "年鉴年份 章节 表格文件"),
    ("经济普查", "departmental", None, ["statistics"], "tj", "普查对象 从业人员 营业收入"),
    ("公交线路", "departmental", None, ["transport"], "jt", "线路编号 线路名称 站点名称"),
    ("道路运输", "departmental", None, ["transport"], "jt", "许可证号 经营者名称 车辆数"),
]
KINDS = [
    "基础信息",
    "登记信息",
    "变更信息",
    "注销信息",
    "许可信息",
    "备案信息",
    "统计信息",
    "监测数据",
    "核查结果",
    "名录",
    "年度报告",
    "汇总数据",
    "明细信息",
    "电子证照",
    "申报信息",
    "审批信息",
    "评价结果",
    "公示信息",
]
USES = [
    "政务服务办理",
    "行政审批核验",
    "监管执法",
    "统计分析",
    "公共服务",
    "信用监管",
    "应急管理",
    "决策支持",
    "跨部门并联审批",
    "一网通办",
]
FORMATS = ["database"] * 5 + ["api"] * 3 + ["spreadsheet"] * 2 + ["file", "geospatial", "image", "other"]
CYCLES = ["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
METHODS = ["gateway_api"] * 4 + ["hosted_dataset"] * 2 + ["file", "off_platform"]

# --- Data generation ----------------------------------------------------------------------------


@functools.cache
def _tokens(piece: str) -> tuple[str, ...]:
    return tuple(search.index_tokens([piece]))


def _search_text(pieces: list[str]) -> str:
    seen: dict[str, None] = {}
    for p in pieces:
        for t in _tokens(p):
            seen.setdefault(t, None)
    return " ".join(seen)


def build_registry(session: Session) -> dict[str, list[tuple[int, str, str]]]:
    """Regions and 14 agencies per region (through the registry service); returns
    agency kind -> [(id, region_code, name)]."""
    for code, name, parent in REGIONS:
        registry_service.create_region(session, RegionCreate(code=code, name=name, parent_code=parent), by=OPERATOR)
    by_kind: dict[str, list[tuple[int, str, str]]] = {k: [] for k, _p, _c in AGENCY_KINDS}
    n = 0
    for code, city, _parent in REGIONS:
        for kind, provincial, template in AGENCY_KINDS:
            n += 1
            name = provincial if code == "320000" else template.format(c=city)
            agency = registry_service.create_agency(
                session,
                AgencyCreate(
                    code=f"b{code}-{kind}",
                    uscc=make_uscc("1", "1", code, f"{10000000 + n:08d}"),
                    name=name,
                    region_code=code,
                ),
                by=OPERATOR,
            )
            by_kind[kind].append((agency.id, code, name))
    session.flush()
    return by_kind


def generate(n: int, by_kind: dict[str, list[tuple[int, str, str]]]) -> tuple[list[dict], list[dict]]:
    rng = random.Random(SEED)
    today = clock.today()
    rows, sectors = [], []
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        subject, cls, cat, secs, kind, item_list = rng.choice(SUBJECTS)
        items = item_list.split()
        agency_id, region_code, agency_name = rng.choice(by_kind[kind])
        place = "全省" if region_code == "320000" else agency_name[:3] if agency_name[2] == "市" else agency_name[:4]
        kind_word = rng.choice(KINDS)
        name = f"{place}{subject}{kind_word}"
        if rng.random() < 0.5:
            name += f"（{rng.randint(2012, 2026)}年）"
        chosen_items = items[: rng.randint(1, len(items))]
        abstract = (
            f"{place}{subject}{kind_word}，由{agency_name}负责采集和更新，包括"
            f"{'、'.join(chosen_items)}等信息项，主要用于{rng.choice(USES)}和{rng.choice(USES)}。"
        )
        share = rng.choices(["unconditional", "conditional", "not_shared"], weights=[45, 50, 5])[0]
        personal = any(x in "".join(chosen_items) for x in ("身份", "姓名", "权利人"))
        if share == "unconditional" and personal:
            share = "conditional"
        status = rng.choices(["published", "draft", "submitted", "withdrawn"], weights=[88, 6, 4, 2])[0]
        entry_secs = sorted(
            set(secs + ([rng.choice(["community", "statistics", "public_safety"])] if rng.random() < 0.2 else []))
        )
        rows.append(
            {
                "id": i,
                "code": rules.resource_code(rules.code_prefix(cls, cat), i) if status != "draft" else None,
                "status": status,
                "provider_id": agency_id,
                "region_code": region_code,
                "classification": cls,
                "category": cat,
                "name": name,
                "abstract": abstract,
                "format": rng.choice(FORMATS),
                "share_type": share,
                "share_conditions": "仅限履行法定职责需要" if share == "conditional" else None,
                "legal_basis": "依据有关法律规定不予共享" if share == "not_shared" else None,
                "provision_method": rng.choice(METHODS),
                "open_to_public": rng.random() < 0.75,
                "update_cycle": rng.choice(CYCLES),
                "update_deadline_workdays": 20,
                "security_classification": "restricted" if personal else "internal",
                "contains_commercial_secret": False,
                "contains_personal_info": personal,
                "published_on": today if status in ("published", "withdrawn") else None,
                "version_number": 1,
                "search_text": _search_text([name, abstract, *chosen_items, agency_name, subject]),
                "created_by": "system",
                "created_at": clock.now(),
                "updated_at": clock.now(),
            }
        )
        sectors.extend({"resource_id": i, "sector": s} for s in entry_secs)
        if i % 20000 == 0:
            print(f"  generated {i:,} entries ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return rows, sectors


def load(url: str, n: int) -> None:
    db.dispose_engine()
    os.environ["GOVSHARE_DATABASE_URL"] = url
    from govshare.core.config import reset_settings

    reset_settings()
    upgrade(url)
    with db.transaction() as session:
        by_kind = build_registry(session)
    rows, sectors = _generated(n, by_kind)
    t0 = time.perf_counter()
    engine = db.get_engine()
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(CatalogResource.__table__), rows[start : start + 5000])
        for start in range(0, len(sectors), 10000):
            conn.execute(insert(CatalogResourceSector.__table__), sectors[start : start + 10000])
    with db.transaction() as session:
        service.bump_search_generation(session)  # the state row: lets search keep its index
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("INSERT INTO catalog_search_fts(catalog_search_fts) VALUES ('optimize')"))
        conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE catalog_resource"))
            conn.execute(text("VACUUM ANALYZE catalog_resource_sector"))
    print(
        f"  loaded {len(rows):,} entries into {engine.dialect.name} ({time.perf_counter() - t0:.0f} s)",
        file=sys.stderr,
        flush=True,
    )


_cache: dict[int, tuple[list[dict], list[dict]]] = {}


def _generated(n: int, by_kind: dict[str, list[tuple[int, str, str]]]) -> tuple[list[dict], list[dict]]:
    # Agency ids are the same on both backends (same creation order), so the rows can be reused.
    if n not in _cache:
        _cache[n] = generate(n, by_kind)
    return _cache[n]


# --- Queries ------------------------------------------------------------------------------------

#: Text queries people type, alone and with facet filters.
TEXT_QUERIES = [
    {"q": "人口"},
    {"q": "营业执照"},
    {"q": "不动产登记"},
    {"q": "社会保险 缴费"},
    {"q": "医保"},
    {"q": "学籍"},
    {"q": "住房公积金"},
    {"q": "最低生活保障"},
    {"q": "排污"},
    {"q": "食品经营 许可"},
    {"q": "婚姻登记"},
    {"q": "纳税信用"},
    {"q": "失信"},
    {"q": "疫苗接种"},
    {"q": "公交线路"},
    {"q": "统一社会信用代码"},
    {"q": "苏州市 企业"},
    {"q": "南京市 户籍"},
    {"q": "行政审批"},
    {"q": "2020年 统计"},
    {"q": "人口", "category": "population"},
    {"q": "企业", "share_type": "unconditional"},
    {"q": "健康档案", "sector": "health"},
    {"q": "登记信息", "region": "320500"},
    {"q": "许可", "format": "api"},
    {"q": "就业", "classification": "thematic", "region": "320100"},
    {"q": "登记", "provider": "b320000-ga"},
]
#: Facet browsing without text (the catalog's front page and its filters).
BROWSE_QUERIES = [
    {},
    {"category": "population"},
    {"share_type": "conditional"},
    {"region": "320500"},
    {"sector": "health"},
    {"format": "api", "classification": "basic"},
    {"provider": "b320100-sj"},
]


def measure(
    session: Session,
    fn: Callable[..., search.SearchResult],
    queries: list[dict],
    rounds: int,
) -> tuple[list[float], list[int]]:
    times, totals = [], []
    for params in queries:  # warm-up
        fn(session, search.SearchParams(**params), viewer=None)
    for _ in range(rounds):
        for params in queries:
            t0 = time.perf_counter()
            result = fn(session, search.SearchParams(**params), viewer=None)
            times.append((time.perf_counter() - t0) * 1000)
            totals.append(result.total)
            session.rollback()  # each search is its own request
    return times, totals


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def after_change(session: Session, rounds: int) -> list[float]:
    """Latency of the first search after an entry changed: the index reloads the changed entry."""
    times = []
    ids = list(session.scalars(select(CatalogResource.id).order_by(CatalogResource.id).limit(rounds)))
    session.rollback()
    for rid in ids:
        with db.transaction() as s:
            s.execute(
                update(CatalogResource)
                .where(CatalogResource.id == rid)
                .values(search_seq=service.bump_search_generation(s), open_to_public=True)
            )
        t0 = time.perf_counter()
        search.search(session, search.SearchParams(q="人口"), viewer=None)
        times.append((time.perf_counter() - t0) * 1000)
        session.rollback()
    return times


def run_backend(name: str, url: str, n: int, rounds: int) -> list[tuple]:
    load(url, n)
    out = []
    with db.new_session() as session:
        t0 = time.perf_counter()
        search.search(session, search.SearchParams(), viewer=None)
        session.rollback()
        cold = (time.perf_counter() - t0) * 1000
        print(f"  {name}: in-process index loaded in {cold:.0f} ms", file=sys.stderr, flush=True)
        for workload, queries in (("text + facets", TEXT_QUERIES), ("browse facets", BROWSE_QUERIES)):
            ours, totals = measure(session, search.search, queries, rounds)
            like, _like_totals = measure(session, search.naive_like_search, queries, rounds)
            hits = statistics.median(totals)
            out.append((name, workload, len(ours), pct(ours, 50), pct(ours, 95), pct(like, 50), pct(like, 95), hits))
            print(
                f"  {name} {workload}: p95 {pct(ours, 95):.1f} ms (LIKE {pct(like, 95):.1f} ms), "
                f"median hits {hits:,.0f}",
                file=sys.stderr,
                flush=True,
            )
        changed = after_change(session, 20)
        out.append(
            (
                name,
                "first text search after a change",
                len(changed),
                pct(changed, 50),
                pct(changed, 95),
                float("nan"),
                float("nan"),
                0,
            )
        )
        out.append((name, "first search of a new process (index load)", 1, cold, cold, float("nan"), float("nan"), 0))
    db.dispose_engine()
    return out


def machine(pg_version: str | None) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
        + (f", PostgreSQL {pg_version}" if pg_version else "")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=6, help="times each query is measured")
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    results: list[tuple] = []
    pg_version = None
    if "sqlite" in backends:
        print("SQLite:", file=sys.stderr)
        results += run_backend("SQLite", f"sqlite:///{_tmp / 'bench.db'}", args.entries, args.rounds)
    if "postgres" in backends:
        print("PostgreSQL:", file=sys.stderr)
        admin = create_engine(make_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
            pg_version = conn.execute(text("SHOW server_version")).scalar()
        try:
            url = make_url(PG_ADMIN_URL).set(database=PG_DB).render_as_string(hide_password=False)
            results += run_backend("PostgreSQL", url, args.entries, args.rounds)
        finally:
            db.dispose_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
            admin.dispose()

    print(
        f"\nCatalog search, {args.entries:,} entries, 7 facets counted per query, anonymous viewer "
        f"(target p95 <= {TARGET_P95_MS:.0f} ms)\n"
    )
    header = (
        "backend",
        "workload",
        "n",
        "p50 ms",
        "p95 ms",
        "LIKE p50",
        "LIKE p95",
        "LIKE/ours p95",
        "median hits",
        "target",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for backend, workload, n, p50, p95, lp50, lp95, hits in results:
        baseline = "-" if lp95 != lp95 else f"{lp50:.1f} | {lp95:.1f} | {lp95 / p95:.1f}x"
        if baseline == "-":
            baseline = "- | - | -"
        target = "" if workload.startswith("first search of") else "met" if p95 <= TARGET_P95_MS else "NOT met"
        print(f"| {backend} | {workload} | {n} | {p50:.1f} | {p95:.1f} | {baseline} | {hits:,.0f} | {target} |")
    print(f"\nmachine: {machine(pg_version)}")


if __name__ == "__main__":
    main()
