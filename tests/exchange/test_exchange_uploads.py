"""Uploading hosted dataset versions: every format, every refusal names its row and column, and a
refused upload leaves nothing behind (no file, no row, no event)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from govshare.core.identifiers import make_id_number
from govshare.exchange import query
from tests.exchange.exchange_helpers import (
    API,
    HEADER,
    attach_hosted,
    csv_bytes,
    jsonl_bytes,
    parquet_bytes,
    publish_entry,
    residents,
    stored_files,
    upload,
    version_rows,
    xlsx_bytes,
)
from tests.recorded import recorded


@pytest.fixture
def hosted(world, session, client):  # type: ignore[no-untyped-def]
    resource = publish_entry(session)
    session.commit()
    attach_hosted(client, world, resource.id)
    return resource


def _accepted(r, rows: int = 30) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["row_count"] == rows and body["current"] is True
    return body


def _rows_of(session, resource_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    source = query.load_source(session, resource_id)
    return query.query_hosted(source, items=None, region_codes=None, limit=1000).rows


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("gbk", False), ("gb18030", False)])
def test_csv_in_utf8_with_or_without_bom_and_gbk(hosted, client, world, session, encoding, bom):
    data = csv_bytes(residents(), encoding=encoding, bom=bom)
    body = _accepted(upload(client, world, hosted.id, "低保.csv", data))
    assert body["source_format"] == "csv"
    assert body["source_encoding"] == ("utf-8-sig" if encoding == "utf-8" else "gb18030")
    assert body["source_sha256"] == hashlib.sha256(data).hexdigest() and body["source_bytes"] == len(data)
    rows = _rows_of(session, hosted.id)
    names = {r["姓名"] for r in rows}
    assert "居民01" in names and len(names) == 30  # Chinese survives every encoding
    first = next(r for r in rows if r["姓名"] == "居民05")
    assert first["出生日期"] == dt.date(1955, 6, 6) and first["家庭人口数"] == 1 and first["是否低保"] is False


def test_jsonl_parquet_and_xlsx(hosted, client, world, session, tmp_path):
    rows = residents()
    body = _accepted(upload(client, world, hosted.id, "a.jsonl", jsonl_bytes(rows)))
    assert body["number"] == 1 and body["source_format"] == "jsonl"
    # JSON lines may use field codes as keys and real JSON types; a missing key is an empty value.
    typed = [
        {
            **{k: v for k, v in r.items() if k != "公民身份号码"},
            "id_number": r["公民身份号码"],
            "家庭人口数": int(r["家庭人口数"]),
            "是否低保": r["是否低保"] == "是",
        }
        for r in rows
    ]
    _accepted(upload(client, world, hosted.id, "b.ndjson", jsonl_bytes(typed)))
    _accepted(upload(client, world, hosted.id, "c.parquet", parquet_bytes(rows, tmp_path)))
    sheet = [HEADER] + [[r[h] for h in HEADER] for r in rows]
    sheet[1][3] = dt.datetime(1951, 2, 2)  # a real Excel date cell
    sheet[1][4] = 2  # a number cell
    body = _accepted(upload(client, world, hosted.id, "d.xlsx", xlsx_bytes(sheet)))
    assert body["number"] == 4
    versions = client.get(f"{API}/resources/{hosted.id}/versions", headers=world.h("gat_staff")).json()
    assert [v["number"] for v in versions["items"]] == [4, 3, 2, 1]
    assert [v["current"] for v in versions["items"]] == [True, False, False, False]
    row = next(r for r in _rows_of(session, hosted.id) if r["姓名"] == "居民01")
    assert row["出生日期"] == dt.date(1951, 2, 2) and row["家庭人口数"] == 2


def test_accepted_version_records_metadata_never_data(hosted, client, world):
    r = upload(
        client,
        world,
        hosted.id,
        "a.csv",
        csv_bytes(residents()),
        changed_at="2026-11-01T09:00:00+08:00",
        note="十月变更",
    )
    body = _accepted(r)
    assert body["changed_at"].startswith("2026-11-01T01:00:00")
    (event,) = recorded("exchange.dataset.version_accepted")
    assert event.data["rows"] == 30 and event.data["sha256"] == body["sha256"] and event.data["version"] == 1
    assert event.agency_code == "js-gat"
    text = event.canonical.decode("utf-8")
    assert "居民01" not in text and residents()[0]["公民身份号码"] not in text


def _refused(r, code: str = "exchange.dataset.invalid"):  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == code, body
    assert r.headers["content-type"].startswith("application/problem+json")
    return body


@pytest.mark.parametrize(
    "column,value,code,item",
    [
        ("公民身份号码", "320508199001011231", "id_number.check_digit", "公民身份号码"),
        ("公民身份号码", "32050819900101123", "id_number.length", "公民身份号码"),
        ("公民身份号码", "320508900101123", "id_number.old_15", "公民身份号码"),
        ("公民身份号码", "320508203001011235", "id_number.birth_date", "公民身份号码"),
        ("经营主体代码", "91320508MA1XXXXXX1", "uscc.check_digit", "经营主体代码"),
        ("经营主体代码", "91320508MA1OOOOOO0", "uscc.chars", "经营主体代码"),
        ("行政区划代码", "320599", "region_unknown", "行政区划代码"),
        ("行政区划代码", "3205", "region_code.format", "行政区划代码"),
        ("姓名", "", "required", "姓名"),
        ("出生日期", "1990-02-30", "date", "出生日期"),
        ("家庭人口数", "三", "integer", "家庭人口数"),
        ("月收入", "12k", "decimal", "月收入"),
        ("是否低保", "maybe", "boolean", "是否低保"),
        ("登记时间", "昨天", "datetime", "登记时间"),
    ],
)
def test_bad_cell_refused_naming_row_and_column(hosted, client, world, column, value, code, item):
    rows = residents()
    rows[6][column] = value  # the 7th data row: spreadsheet row 8
    before = stored_files()
    body = _refused(upload(client, world, hosted.id, "a.csv", csv_bytes(rows)))
    assert body["row"] == 8 and body["column"] == item and body["field"] == item
    assert body["errors"][0] == {**body["errors"][0], "row": 8, "column": item, "code": code}
    assert body["error_count"] == 1 and "第 8 行" in body["detail"]
    assert stored_files() == before and version_rows() == 0
    assert recorded("exchange.dataset.version_accepted") == []


def test_lower_case_x_is_accepted_and_stored_upper(hosted, client, world, session):
    rows = residents()
    number = next(
        make_id_number("320508", dt.date(1980, 1, d), s)
        for d in range(1, 29)
        for s in range(0, 999, 2)
        if make_id_number("320508", dt.date(1980, 1, d), s).endswith("X")
    )
    rows[0]["公民身份号码"] = number.lower()
    _accepted(upload(client, world, hosted.id, "a.csv", csv_bytes(rows)))
    assert any(r["公民身份号码"] == number for r in _rows_of(session, hosted.id))


def test_errors_are_listed_in_row_order_and_all_counted(hosted, client, world, monkeypatch):
    from govshare.exchange.config import reset_exchange_settings

    monkeypatch.setenv("GOVSHARE_UPLOAD_MAX_ERRORS", "3")
    reset_exchange_settings()
    try:
        rows = residents()
        for r in rows[10:20]:
            r["家庭人口数"] = "x"
        rows[12]["姓名"] = ""
        body = _refused(upload(client, world, hosted.id, "a.csv", csv_bytes(rows)))
    finally:
        monkeypatch.delenv("GOVSHARE_UPLOAD_MAX_ERRORS")
        reset_exchange_settings()
    assert body["error_count"] == 11
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(12, "家庭人口数"), (13, "家庭人口数"), (14, "姓名")]


def test_duplicate_key_refused_at_the_second_row(hosted, client, world):
    rows = residents()
    rows[20]["公民身份号码"] = rows[3]["公民身份号码"]
    body = _refused(upload(client, world, hosted.id, "a.csv", csv_bytes(rows)))
    assert (body["row"], body["column"], body["errors"][0]["code"]) == (22, "公民身份号码", "key_duplicate")


def test_blank_rows_count_like_a_spreadsheet(hosted, client, world):
    rows = residents()
    data = csv_bytes(rows[:2]) + b"\r\n,,,,,,,,,\r\n" + csv_bytes(rows[2:5]).split(b"\r\n", 1)[1]
    rows_bad = residents()[2:5]
    rows_bad[1]["出生日期"] = "x"
    data_bad = csv_bytes(rows[:2]) + b"\r\n" + csv_bytes(rows_bad).split(b"\r\n", 1)[1]
    _accepted(upload(client, world, hosted.id, "a.csv", data), rows=5)
    # header = row 1, two rows, a blank row 4, then row 5, and the bad one on row 6
    assert _refused(upload(client, world, hosted.id, "a.csv", data_bad))["row"] == 6


def test_quoted_newlines_stay_in_one_row(hosted, client, world, session):
    rows = residents()
    rows[0]["姓名"] = "第一行\n第二行"
    rows[1]["出生日期"] = "bad"
    body = _refused(upload(client, world, hosted.id, "a.csv", csv_bytes(rows)))
    assert body["row"] == 3  # the multi-line cell is one spreadsheet row


@pytest.mark.parametrize(
    "header,unknown,missing",
    [
        ([*HEADER[:-1], "地区"], ["地区"], ["行政区划代码"]),
        ([*HEADER[:9]], [], ["行政区划代码"]),
        ([*HEADER, "备注"], ["备注"], []),
    ],
)
def test_unknown_and_missing_columns_named(hosted, client, world, header, unknown, missing):
    rows = [{**r, "地区": r["行政区划代码"], "备注": "x"} for r in residents()]
    before = stored_files()
    body = _refused(upload(client, world, hosted.id, "a.csv", csv_bytes(rows, header)), "exchange.dataset.columns")
    assert body["unknown_columns"] == unknown and body["missing_items"] == missing and body["row"] == 1
    assert body["article"] == "Art 10" and body["field"] == (unknown or missing)[0]
    assert stored_files() == before and version_rows() == 0


def test_field_codes_name_columns_too_but_not_twice(hosted, client, world, session):
    header = ["id_number", *HEADER[1:9], "region_code"]
    rows = [{**r, "id_number": r["公民身份号码"], "region_code": r["行政区划代码"]} for r in residents()]
    _accepted(upload(client, world, hosted.id, "a.csv", csv_bytes(rows, header)))
    body = _refused(
        upload(client, world, hosted.id, "a.csv", csv_bytes(rows, [*HEADER, "id_number"])), "exchange.dataset.columns"
    )
    assert body["doubled_columns"] == ["公民身份号码 / id_number"]


@pytest.mark.parametrize(
    "filename,data,code",
    [
        ("a.csv", b"\xff\xfe\x00\x01\x80\x80\xff", "exchange.dataset.encoding"),
        ("a.csv", b"", "exchange.dataset.empty"),
        ("a.csv", "公民身份号码\n".encode(), "exchange.dataset.columns"),
        ("a.xlsx", b"not a zip", "exchange.dataset.xlsx_invalid"),
        ("a.parquet", b"PAR1 nope", "exchange.dataset.parquet_invalid"),
        ("a.json", b'[{"a": 1}]', "exchange.dataset.jsonl_array"),
        ("a.pdf", b"%PDF", "exchange.dataset.format_unknown"),
    ],
)
def test_unreadable_files_refused(hosted, client, world, filename, data, code):
    before = stored_files()
    body = _refused(upload(client, world, hosted.id, filename, data), code)
    assert body["field"] in ("file", "公民身份号码", "format") or body["field"]
    assert stored_files() == before and version_rows() == 0


def test_header_only_file_has_no_rows(hosted, client, world):
    _refused(upload(client, world, hosted.id, "a.csv", csv_bytes([])), "exchange.dataset.empty")


def test_jsonl_row_errors_name_line_and_key(hosted, client, world):
    rows = residents()
    lines = jsonl_bytes(rows[:3]).decode() + '{"姓名": {"nested": 1}}\n' + "not json\n" + '{"别的": 1}\n'
    body = _refused(upload(client, world, hosted.id, "a.jsonl", lines.encode()))
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [
        (4, "姓名", "json_nested"),
        (5, None, "json_invalid"),
        (6, "别的", "column_unknown"),
    ]


def test_field_count_mismatch_named(hosted, client, world):
    data = csv_bytes(residents()[:3]) + b"1,2,3\r\n"
    body = _refused(upload(client, world, hosted.id, "a.csv", data))
    assert body["row"] == 5 and body["errors"][0]["code"] == "field_count"


def test_nothing_stored_when_the_transaction_fails(hosted, client, world, monkeypatch):
    """The file is moved into place inside the transaction; if the transaction then fails, the
    rollback removes it: no file, no row, no event."""
    from govshare.core import events

    real = events.record

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("action") == "exchange.dataset.version_accepted":
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(events, "record", failing)
    before = stored_files()
    from fastapi.testclient import TestClient

    from govshare.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as c:
        r = upload(c, world, hosted.id, "a.csv", csv_bytes(residents()))
    assert r.status_code == 500
    assert stored_files() == before and version_rows() == 0


def test_size_cap_refuses_while_streaming(hosted, client, world, monkeypatch):
    from govshare.exchange.config import reset_exchange_settings

    monkeypatch.setenv("GOVSHARE_MAX_UPLOAD_BYTES", "1000")
    reset_exchange_settings()
    try:
        before = stored_files()
        r = upload(client, world, hosted.id, "a.csv", csv_bytes(residents()))
        assert r.status_code == 413 and r.json()["code"] == "exchange.dataset.too_large"
        # Chunked (no Content-Length): refused once the bytes received pass the cap.
        body = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n' + b"x" * 5000
        r = client.post(
            f"{API}/resources/{hosted.id}/versions",
            content=iter([body[:100], body[100:]]),
            headers={**world.h("gat_staff"), "Content-Type": "multipart/form-data; boundary=xyz"},
        )
        assert r.status_code == 413
        assert stored_files() == before
    finally:
        monkeypatch.delenv("GOVSHARE_MAX_UPLOAD_BYTES")
        reset_exchange_settings()


@pytest.mark.parametrize(
    "headers,content,status,code",
    [
        ({"Content-Type": "text/csv"}, b"a,b", 415, "exchange.upload.content_type"),
        (
            {"Content-Type": "multipart/form-data; boundary=xyz"},
            b"--xyz\r\nno colon here\r\n\r\nx\r\n--xyz--\r\n",
            422,
            "exchange.upload.malformed",
        ),
        (
            {"Content-Type": "multipart/form-data; boundary=xyz"},
            b'--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--xyz--\r\n',
            422,
            "exchange.upload.file_required",
        ),
        (
            {"Content-Type": "multipart/form-data; boundary=xyz"},
            b'--xyz\r\nContent-Disposition: form-data; name="other"\r\n\r\nhi\r\n--xyz--\r\n',
            422,
            "exchange.upload.malformed",
        ),
    ],
)
def test_malformed_uploads(hosted, client, world, headers, content, status, code):
    r = client.post(
        f"{API}/resources/{hosted.id}/versions", content=content, headers={**world.h("gat_staff"), **headers}
    )
    assert r.status_code == status and r.json()["code"] == code, r.text


def test_changed_at_checked(hosted, client, world):
    r = upload(client, world, hosted.id, "a.csv", csv_bytes(residents()), changed_at="2999-01-01T00:00:00+08:00")
    assert r.status_code == 422 and r.json()["field"] == "changed_at" and r.json()["article"] == "Art 15(2)"
    r = upload(client, world, hosted.id, "a.csv", csv_bytes(residents()), changed_at="last week")
    assert r.status_code == 422 and r.json()["field"] == "changed_at"
    assert version_rows() == 0


@pytest.mark.parametrize(
    "who,status",
    [
        ("gat_admin", 201),
        ("gat_staff", 201),
        ("szsj_admin", 403),
        ("province_authority", 403),
        ("supervisor", 403),
        ("secrecy", 403),
    ],
)
def test_only_the_provider_uploads(hosted, client, world, who, status):
    r = upload(client, world, hosted.id, "a.csv", csv_bytes(residents()), who=who)
    assert r.status_code == status, r.text


def test_no_upload_to_proxied_or_without_interface(world, session, client):
    bare = publish_entry(session, name="未接入的资源")
    session.commit()
    r = upload(client, world, bare.id, "a.csv", csv_bytes(residents()))
    assert r.status_code == 404 and r.json()["code"] == "exchange.interface.not_found"


def test_uploads_have_their_own_cap_above_the_request_body_cap(hosted, world, monkeypatch):
    """The platform caps request bodies (``max_body_bytes``); dataset uploads stream under their own
    ``max_upload_bytes`` instead, and every other route keeps the platform's cap."""
    from fastapi.testclient import TestClient

    from govshare.app import create_app
    from govshare.core.config import reset_settings

    data = csv_bytes(residents())
    monkeypatch.setenv("GOVSHARE_MAX_BODY_BYTES", "2000")
    reset_settings()
    try:
        assert len(data) > 2000
        with TestClient(create_app()) as c:
            assert upload(c, world, hosted.id, "a.csv", data).status_code == 201
            r = c.post(
                f"{API}/resources/{hosted.id}/preview", json={"items": ["姓名"] * 300}, headers=world.h("gat_staff")
            )
            assert r.status_code == 413 and r.json()["code"] == "request.too_large"
    finally:
        monkeypatch.delenv("GOVSHARE_MAX_BODY_BYTES")
        reset_settings()
