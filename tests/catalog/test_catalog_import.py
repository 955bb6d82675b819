"""Bulk import from .xlsx and .csv: per-row errors, nothing stored from a bad file, --valid-only."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from govshare.catalog import importer
from govshare.catalog.models import CatalogResource
from govshare.cli import app as cli_app
from govshare.core.auth import OPERATOR
from govshare.core.events import Event
from govshare.registry import service as registry_service
from tests.catalog.catalog_helpers import API

HEADERS = [
    "资源名称",
    "资源分类",
    "资源类别",
    "资源摘要",
    "数据格式",
    "共享类型",
    "共享条件",
    "法律依据",
    "提供方式",
    "是否向社会开放",
    "更新周期",
    "更新时限（工作日）",
    "领域",
    "安全级别",
    "含个人信息",
    "信息项",
]
GOOD = [
    [
        "户籍人口基本信息",
        "基础",
        "人口",
        "全省户籍人口基本登记信息",
        "数据库",
        "有条件共享",
        "按需调用，签订保密协议",
        "",
        "共享平台接口",
        "否",
        "实时",
        "5",
        "公共安全、民政",
        "敏感",
        "是",
        "公民身份号码|字符型|18 位|个人；姓名|字符型||个人；户籍地址",
    ],
    [
        "公共图书馆名录",
        "部门",
        "",
        "公共图书馆名称、地址",
        "电子表格",
        "无条件共享",
        "",
        "",
        "平台托管数据集",
        "是",
        "每年",
        "",
        "公共文化",
        "公开",
        "否",
        "图书馆名称；地址|字符型",
    ],
    [
        "涉密测绘成果目录",
        "基础",
        "自然资源和空间地理",
        "基础测绘成果清单",
        "空间地理数据",
        "不予共享",
        "",
        "《中华人民共和国测绘法》第三十四条",
        "文件交换",
        "否",
        "不定期",
        "20",
        "自然资源",
        "秘密",
        "否",
        "图幅号",
    ],
]
BAD_ROW = [
    "企业变更登记信息",
    "基础",
    "法人",
    "变更登记",
    "数据库",
    "不予共享",
    "",
    "",
    "共享平台接口",
    "否",
    "每日",
    "",
    "",
    "内部",
    "否",
    "企业名称",
]  # not shared without a legal basis: Art 7(1)


def _xlsx(path, rows, headers=HEADERS):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "资源目录"
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _count(session):
    n = session.scalar(select(func.count()).select_from(CatalogResource))
    session.rollback()
    return n


def test_good_xlsx_imports_every_row(world, session, tmp_path, client):
    path = _xlsx(tmp_path / "目录.xlsx", GOOD)
    result = CliRunner().invoke(cli_app, ["catalog", "import", str(path), "--agency", "js-gat"])
    assert result.exit_code == 0, result.output
    assert "已导入 3 条" in result.output
    assert _count(session) == 3
    mine = client.get(API, params={"mine": True}, headers=world.h("gat_staff")).json()
    by_name = {i["name"]: i for i in mine["items"]}
    assert set(by_name) == {"户籍人口基本信息", "公共图书馆名录", "涉密测绘成果目录"}
    assert all(i["status"] == "draft" for i in mine["items"])
    full = client.get(f"{API}/{by_name['户籍人口基本信息']['id']}", headers=world.h("gat_staff")).json()
    assert full["category"] == "population" and full["share_type"] == "conditional"
    assert full["update_deadline_workdays"] == 5 and full["update_cycle"] == "realtime"
    assert full["sectors"] == ["civil_affairs", "public_safety"]
    assert [(i["name"], i["is_personal"]) for i in full["data_items"]] == [
        ("公民身份号码", True),
        ("姓名", True),
        ("户籍地址", False),
    ]
    assert full["data_items"][0]["description"] == "18 位"
    lib = client.get(f"{API}/{by_name['公共图书馆名录']['id']}", headers=world.h("gat_staff")).json()
    assert lib["update_deadline_workdays"] == 20 and lib["open_to_public"] is True
    ev = session.scalars(select(Event).where(Event.action == "catalog.import.completed")).one()
    assert ev.data["imported"] == 3 and len(ev.data["sha256"]) == 64
    created = session.scalars(select(Event).where(Event.action == "catalog.resource.created")).all()
    assert sorted(e.data["source"]["row"] for e in created) == [2, 3, 4]
    session.rollback()


def test_bad_file_stores_nothing(world, session, tmp_path):
    path = _xlsx(tmp_path / "bad.xlsx", [GOOD[0], BAD_ROW, GOOD[1]])
    result = CliRunner().invoke(cli_app, ["catalog", "import", str(path), "--agency", "js-gat"])
    assert result.exit_code == 1
    assert "未导入任何条目" in result.output
    assert _count(session) == 0
    table = importer.read_file(path)
    report = importer.import_table(session, table, agency="js-gat", by=OPERATOR)
    assert not report.stored and report.imported == 0
    assert [(e.row, e.column, e.code, e.article) for e in report.errors] == [
        (3, "法律依据", "catalog.basic.not_shared_without_basis", "Art 7(1)")
    ]
    assert "不予共享" in report.errors[0].message_zh
    session.rollback()


def test_valid_only_imports_the_good_rows(world, session, tmp_path):
    path = _xlsx(tmp_path / "mixed.xlsx", [GOOD[0], BAD_ROW, GOOD[1], ["", "基础", "人口"] + [""] * 13])
    result = CliRunner().invoke(cli_app, ["catalog", "import", str(path), "--agency", "js-gat", "--valid-only"])
    assert result.exit_code == 0, result.output
    assert "已导入 2 条" in result.output
    names = set(session.scalars(select(CatalogResource.name)))
    session.rollback()
    assert names == {"户籍人口基本信息", "公共图书馆名录"}


def test_row_errors_name_row_column_and_problem(world, session, tmp_path):
    rows = [
        [
            "甲",
            "基础",
            "人口",
            "",
            "数据库",
            "有时共享",
            "",
            "",
            "共享平台接口",
            "否",
            "每日",
            "",
            "",
            "内部",
            "否",
            "",
        ],
        [
            "乙资源",
            "主题",
            "人口",
            "",
            "数据库",
            "无条件共享",
            "",
            "",
            "共享平台接口",
            "否",
            "每日",
            "",
            "",
            "公开",
            "否",
            "",
        ],
        [
            "丙资源",
            "部门",
            "",
            "",
            "数据库",
            "无条件共享",
            "",
            "",
            "共享平台接口",
            "也许",
            "每日",
            "",
            "",
            "公开",
            "否",
            "",
        ],
        [
            "丁资源",
            "部门",
            "",
            "",
            "数据库",
            "无条件共享",
            "",
            "",
            "共享平台接口",
            "否",
            "每日",
            "三十",
            "",
            "公开",
            "否",
            "",
        ],
        [
            "戊资源",
            "部门",
            "",
            "",
            "数据库",
            "无条件共享",
            "",
            "",
            "共享平台接口",
            "否",
            "每日",
            "",
            "",
            "公开",
            "否",
            "名称；名称",
        ],
        [
            "戊资源",
            "部门",
            "",
            "",
            "数据库",
            "无条件共享",
            "",
            "",
            "共享平台接口",
            "否",
            "每日",
            "",
            "",
            "公开",
            "否",
            "",
        ],
        [
            "戊资源",
            "部门",
            "",
            "",
            "数据库",
            "无条件共享",
            "",
            "",
            "共享平台接口",
            "否",
            "每日",
            "",
            "",
            "公开",
            "否",
            "x",
        ],
    ]
    table = importer.read_table(_xlsx_bytes(rows), "x.xlsx")
    report = importer.import_table(session, table, agency="js-gat", by=OPERATOR)
    got = [(e.row, e.column, e.code) for e in report.errors]
    assert got == [
        (2, "共享类型", "catalog.import.unknown_value"),
        (3, "资源类别", "catalog.category.invalid"),
        (4, "是否向社会开放", "catalog.import.not_boolean"),
        (5, "更新时限（工作日）", "catalog.import.not_integer"),
        (6, "信息项", "catalog.data_item.duplicate"),
        (8, "资源名称", "catalog.import.duplicate_in_file"),
    ]
    assert "第 7 行" in report.errors[-1].message_zh
    assert report.valid == 1 and not report.stored
    session.rollback()


def _xlsx_bytes(rows):
    import io

    wb = openpyxl.Workbook()
    wb.active.append(HEADERS)
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_csv_with_english_headers_and_provider_column(world, session, tmp_path):
    path = tmp_path / "catalog.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "name",
                "classification",
                "category",
                "provider",
                "format",
                "share_type",
                "share_conditions",
                "provision_method",
                "update_cycle",
                "sectors",
                "data_items",
                "colour",
            ]
        )
        w.writerow(
            [
                "企业基本信息",
                "basic",
                "legal_entity",
                "sz-sj",
                "api",
                "conditional",
                "按需调用",
                "gateway_api",
                "daily",
                "market_regulation",
                "统一社会信用代码\n企业名称",
                "red",
            ]
        )
        w.writerow(
            [
                "企业年报信息",
                "basic",
                "legal_entity",
                "nj-sj",
                "database",
                "conditional",
                "按需调用",
                "file",
                "yearly",
                "",
                "",
                "",
            ]
        )
    table = importer.read_file(path)
    report = importer.import_table(session, table, by=OPERATOR)
    assert report.stored and report.imported == 2
    assert report.ignored_columns == ["colour"]
    rows = session.execute(select(CatalogResource.name, CatalogResource.provider_id)).all()
    providers = {name: registry_service.get_agency(session, pid).code for name, pid in rows}
    assert providers == {"企业基本信息": "sz-sj", "企业年报信息": "nj-sj"}
    session.rollback()


def test_missing_required_column_stores_nothing_even_valid_only(world, session, tmp_path):
    path = _xlsx(tmp_path / "short.xlsx", [["甲资源", "部门"]], headers=["资源名称", "资源分类"])
    report = importer.import_table(session, importer.read_file(path), agency="js-gat", valid_only=True, by=OPERATOR)
    assert not report.stored
    assert {e.column for e in report.errors} == {"数据格式", "共享类型", "提供方式", "更新周期"}
    assert all(e.row == 1 for e in report.errors)
    session.rollback()


def test_upload_path_checks_the_uploaders_agency(world, session, tmp_path):
    """The service the upload page uses: a signed-in provider imports only for its own agency."""
    principal = registry_service.authenticate_secret(session, world.tokens["szsj_admin"])
    table = importer.read_table(_xlsx_bytes([GOOD[1]]), "up.xlsx")
    report = importer.import_table(session, table, by=principal)
    assert report.stored and report.imported == 1
    got = session.get(CatalogResource, report.resource_ids[0])
    assert registry_service.get_agency(session, got.provider_id).code == "sz-sj"
    refused = importer.import_table(session, table, by=principal, agency="js-gat")
    assert not refused.stored
    assert [(e.row, e.code, e.article) for e in refused.errors] == [(2, "catalog.out_of_scope", "Art 9")]
    session.rollback()


def test_template_round_trip(world, session, tmp_path):
    path = tmp_path / "template.xlsx"
    result = CliRunner().invoke(cli_app, ["catalog", "template", str(path)])
    assert result.exit_code == 0, result.output
    report = importer.import_table(session, importer.read_file(path), agency="js-gat", status="published", by=OPERATOR)
    assert report.stored and report.imported == 2, report.errors
    codes = sorted(session.scalars(select(CatalogResource.code)))
    assert codes == ["101-000001", "300-000001"]
    session.rollback()


def test_unreadable_and_empty_files(world, session):
    from govshare.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as e:
        importer.read_table(b"PK\x03\x04 not really a zip", "x.xlsx")
    assert e.value.code == "catalog.import.unreadable"
    with pytest.raises(InvalidInput) as e:
        importer.read_table(b"\n\n", "x.csv")
    assert e.value.code == "catalog.import.empty"
    gbk = "资源名称,资源分类,数据格式,共享类型,提供方式,更新周期\n甲资源,部门,数据库,无条件共享,文件交换,每年\n".encode(
        "gb18030"
    )
    table = importer.read_table(gbk, "gbk.csv")
    assert table.rows[0][1]["资源名称"] == "甲资源"


def _long_cell_csv(length: int) -> bytes:
    header = "资源名称,资源分类,数据格式,共享类型,提供方式,更新周期,资源摘要\n"
    good = "公共图书馆名录,部门,电子表格,无条件共享,平台托管数据集,每年,图书馆名称和地址\n"
    long = f'档案目录,部门,电子表格,无条件共享,平台托管数据集,每年,"{"摘" * length}"\n'
    return (header + good + long).encode("utf-8")


@pytest.mark.parametrize("length", [importer.MAX_CELL_CHARS + 1, 131_073, 400_000])
def test_a_too_long_cell_names_its_row_and_column(world, session, length):
    """Python's csv module stopped at 131,072 characters with a traceback; every cell longer than
    Excel's 32,767 is now a row error naming the row and the column."""
    table = importer.read_table(_long_cell_csv(length), "long.csv")
    report = importer.import_table(session, table, agency="js-gat", by=OPERATOR)
    assert not report.stored
    assert [(e.row, e.column, e.code) for e in report.errors] == [(3, "资源摘要", "catalog.import.cell_too_long")]
    assert str(length) in report.errors[0].message_zh and "32767" in report.errors[0].message_en
    valid_only = importer.import_table(session, table, agency="js-gat", by=OPERATOR, valid_only=True)
    assert valid_only.stored and valid_only.imported == 1
    session.rollback()


def test_a_cell_at_the_limit_is_read(world, session):
    table = importer.read_table(_long_cell_csv(importer.MAX_CELL_CHARS), "limit.csv")
    report = importer.import_table(session, table, agency="js-gat", by=OPERATOR)
    assert [(e.row, e.column) for e in report.errors] == [(3, "资源摘要")]  # too long for the abstract field
    assert report.errors[0].code == "catalog.import.invalid"  # the field's own limit, not the cell's
    session.rollback()


def test_too_long_cell_from_the_command_line(world, session, tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(_long_cell_csv(200_000))
    result = CliRunner().invoke(cli_app, ["catalog", "import", str(path), "--agency", "js-gat"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "资源摘要" in result.output and "200000" in result.output and "未导入任何条目" in result.output
    assert _count(session) == 0


def test_too_long_header_is_a_file_error(world, session):
    from govshare.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as e:
        importer.read_table(("资源名称," + "x" * 40_000 + "\n甲,乙\n").encode(), "h.csv")
    assert e.value.code == "catalog.import.cell_too_long" and "第 1 行第 2 列" in e.value.title_zh
