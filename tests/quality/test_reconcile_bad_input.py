"""Bad copies through the API and the pages (issue: GBK from Excel, broken CSV, a key column
missing, a huge upload, duplicate keys): each gets an answer naming row and column, and nothing
is half-stored: no run, no event, no file, when the upload itself is refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from govshare.core.config import get_settings
from govshare.quality.config import get_quality_settings, reset_quality_settings
from govshare.quality.models import QualityReconciliation
from tests.exchange.exchange_helpers import csv_bytes
from tests.portal.portal_helpers import browser, field_block, sign_in, token_of
from tests.quality.quality_helpers import (
    API,
    SECONDARY_HEADER,
    primary_dataset,
    register,
    secondary_csv,
    secondary_rows,
    start_upload,
)
from tests.recorded import recorded


@pytest.fixture(autouse=True)
def _clean_folder() -> Iterator[None]:
    """Run ids start at 1 in every test: no earlier test's files in their folders."""
    folder = get_quality_settings().resolved_dir / "reconciliations"
    shutil.rmtree(folder, ignore_errors=True)
    yield
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def small_uploads(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Uploads capped at 600 bytes (the copy of the tests is about 1.3 KB)."""
    monkeypatch.setenv("GOVSHARE_RECONCILE_MAX_BYTES", "600")
    reset_quality_settings()
    yield 600
    monkeypatch.undo()
    reset_quality_settings()


def _stored_nothing(session) -> None:  # type: ignore[no-untyped-def]
    assert session.scalar(select(func.count()).select_from(QualityReconciliation)) == 0
    session.rollback()
    assert recorded("quality.reconciliation.started") == []
    folder = get_quality_settings().resolved_dir / "reconciliations"
    assert not [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else True


def _run(client, world, run_id):  # type: ignore[no-untyped-def]
    return client.get(f"{API}/reconciliations/{run_id}", headers=world.h("szsj_admin")).json()


def test_a_copy_over_the_limit_is_refused_with_its_size_and_nothing_is_stored(
    world, session, client, app, small_uploads
):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    rid = resource.id
    data = secondary_csv()
    assert len(data) > small_uploads
    r = start_upload(client, world, resource, data)
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "quality.input.too_large" and body["field"] == "file"
    assert body["limit"] == 600 and body["size"] == len(data)
    assert "上限 600 B" in body["title"]
    _stored_nothing(session)

    # The page: the form again with the size beside the file field, in Chinese or English.
    sz = sign_in(browser(app), "szsj_admin")
    form = sz.get(f"/quality/reconciliations/new?primary={rid}")
    fields = {"csrf_token": token_of(form.text), "primary": str(rid), "key": "公民身份号码", "items": "姓名"}
    r = sz.post("/quality/reconciliations/new", files={"file": ("copy.csv", data)}, data=fields)
    assert r.status_code == 422
    assert f"文件太大：{len(data) / 1024:.1f} KB，上限 600 B" in field_block(r.text, "file")
    r = sz.post("/quality/reconciliations/new?lang=en", files={"file": ("copy.csv", data)}, data=fields)
    assert "The file is too large" in r.text and "the limit is 600 B" in r.text
    _stored_nothing(session)


def test_a_huge_upload_is_refused_before_it_is_read(world, session, client, app, small_uploads):
    """A body past the route's cap (the platform's body limit, or the upload limit and a margin for
    the form if larger) is refused from its declared length, 413, before the server reads it; a
    5 GB file gets the same answer."""
    register(session)
    session.commit()
    rid = primary_dataset(session, client, world).id
    huge = b"x" * (get_settings().max_body_bytes + 1024)
    r = start_upload(client, world, type("R", (), {"id": rid}), huge)
    assert r.status_code == 413 and r.json()["code"] == "request.too_large"
    sz = sign_in(browser(app), "szsj_admin")
    form = sz.get(f"/quality/reconciliations/new?primary={rid}")
    r = sz.post(
        "/quality/reconciliations/new",
        files={"file": ("copy.csv", huge)},
        data={"csrf_token": token_of(form.text), "primary": str(rid), "key": "公民身份号码", "items": "姓名"},
    )
    # A browser gets the error page, in its language, not JSON.
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "请求内容过大" in r.text and f"请求内容不能超过 {get_settings().max_body_bytes} 字节" in r.text
    _stored_nothing(session)


def test_gbk_from_excel_reconciles_like_utf8(world, session, client):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    utf8 = _run(client, world, start_upload(client, world, resource, secondary_csv()).json()["id"])
    gbk = _run(client, world, start_upload(client, world, resource, secondary_csv("gbk")).json()["id"])
    assert gbk["state"] == "done" and gbk["report"]["secondary"]["encoding"] == "gb18030"
    assert [i["mismatched"] for i in gbk["report"]["items"]] == [i["mismatched"] for i in utf8["report"]["items"]]
    assert gbk["discrepancies"] == utf8["discrepancies"]


def test_broken_encoding_and_broken_csv_name_the_row_on_the_page(world, session, client, app):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    # GBK with a byte sequence that is not GBK at line 32 (header, 29 rows, an extra row, then it).
    bad_gbk = secondary_csv("gbk") + "320500,".encode("gbk") + b"\x81\x20" + b",2000-01-01,x\r\n"
    run = _run(client, world, start_upload(client, world, resource, bad_gbk).json()["id"])
    assert run["state"] == "failed" and run["error"]["code"] == "quality.input.encoding_unsupported"
    line = run["error"]["line"]
    assert line == len(secondary_rows()) + 2 and f"第 {line} 行" in run["error"]["detail"]
    sz = sign_in(browser(app), "szsj_admin")
    page = sz.get(f"/quality/reconciliations/{run['id']}").text
    assert "无法识别文件的字符编码" in page and f"行：第 {line} 行" in page
    # A quote left open: the row and the column, on the page too.
    broken = secondary_csv() + '"unclosed,王,2000-01-01,男\r\n'.encode()
    run = _run(client, world, start_upload(client, world, resource, broken).json()["id"])
    assert run["error"]["code"] == "quality.input.csv_malformed" and run["error"]["row"] == 31
    page = sz.get(f"/quality/reconciliations/{run['id']}").text
    assert "行：第 31 行" in page and f"列：{run['error']['field']}" in page
    # A key column missing: the column, and the columns the file has instead.
    no_key = csv_bytes(secondary_rows(), ["身份证", *SECONDARY_HEADER[1:]])
    run = _run(client, world, start_upload(client, world, resource, no_key).json()["id"])
    assert run["error"]["field"] == "公民身份号码" and "身份证" in run["error"]["available_columns"]
    assert run["error"]["side"] == "secondary"
    assert "列：公民身份号码" in sz.get(f"/quality/reconciliations/{run['id']}").text
    # Failed runs leave no copy, no discrepancy file and no task behind.
    folder = get_quality_settings().resolved_dir / "reconciliations"
    assert not list(folder.rglob("copy.*")) and not list(folder.rglob("discrepancies.*"))
    assert all(
        r["task_id"] is None
        for r in client.get(f"{API}/reconciliations", headers=world.h("szsj_admin")).json()["items"]
    )


def test_duplicate_keys_are_named_by_row_and_column(world, session, client, app):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    rows = secondary_rows()
    twice = dict(rows[10], 姓名="重复的人")  # the key of file row 12 again, at the end
    rows.append(twice)
    run = _run(client, world, start_upload(client, world, resource, csv_bytes(rows, SECONDARY_HEADER)).json()["id"])
    assert run["state"] == "done"
    side = run["report"]["secondary"]
    assert (side["duplicate_keys"], side["duplicate_rows"]) == (1, 2)
    assert side["duplicate_samples"] == [{"key": twice["公民身份号码"], "occurrences": 2, "first_row": 12}]
    sz = sign_in(browser(app), "szsj_admin")
    page = sz.get(f"/quality/reconciliations/{run['id']}").text
    section = page.split('id="dup-title"', 1)[1].split("</section>", 1)[0]
    assert "主键列“公民身份号码”中 1 个主键重复，共 2 行" in section
    assert twice["公民身份号码"] in section and '<td data-label="首次出现的行号">12</td>' in section
