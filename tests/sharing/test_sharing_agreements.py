"""Confidentiality agreements (Art 19(1)): the PDF embeds its Chinese font, is the document kept
and hashed, only the parties see it, and revoking the grant voids an unsigned agreement."""

from __future__ import annotations

import re
import zlib

from tests.sharing.sharing_helpers import API, file_request


def _streams(pdf: bytes) -> list[bytes]:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return out


def _approved(client, w):  # type: ignore[no-untyped-def]
    req = file_request(client, w, w.entries.personal)
    r = client.post(f"{API}/requests/{req['id']}/approve", json={}, headers=w.h("gat_staff"))
    assert r.status_code == 200, r.text
    return r.json()


def test_pdf_embeds_a_chinese_font(sharing_world, client):
    w = sharing_world
    approved = _approved(client, w)
    pdf = client.get(f"{API}/agreements/{approved['agreement_id']}.pdf", headers=w.h("gat_staff")).content
    text = pdf + b"".join(_streams(pdf))
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Noto-(Serif|Sans)-CJK-SC", text), "a subset of Noto CJK"
    assert re.search(rb"/FontFile[23]?", text), "the font program is embedded"
    again = client.get(f"{API}/agreements/{approved['agreement_id']}.pdf", headers=w.h("szsj_admin")).content
    assert again == pdf  # the kept document, not a new rendering


def test_only_the_parties_and_overseers_see_it(sharing_world, client):
    w = sharing_world
    aid = _approved(client, w)["agreement_id"]
    for who, code in (("njsj_staff", 404), ("suzhou_authority", 200), ("supervisor", 200), ("szsj_staff", 200)):
        assert client.get(f"{API}/agreements/{aid}", headers=w.h(who)).status_code == code, who
    assert client.get(f"{API}/agreements/{aid}.pdf", headers=w.h("njsj_staff")).status_code == 404
    r = client.post(f"{API}/agreements/{aid}/sign", json={}, headers=w.h("njsj_admin"))
    assert r.status_code == 404


def test_a_changed_document_is_not_signed(sharing_world, client):
    w = sharing_world
    aid = _approved(client, w)["agreement_id"]
    r = client.post(f"{API}/agreements/{aid}/sign", json={"pdf_sha256": "0" * 64}, headers=w.h("gat_admin"))
    assert r.status_code == 409 and r.json()["code"] == "sharing.agreement.document_changed"


def test_revoking_voids_an_unsigned_agreement(sharing_world, client):
    w = sharing_world
    approved = _approved(client, w)
    r = client.post(
        f"{API}/grants/{approved['grant_id']}/revoke",
        json={"reason": "申请方职责调整，不再需要"},
        headers=w.h("gat_staff"),
    )
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    a = client.get(f"{API}/agreements/{approved['agreement_id']}", headers=w.h("gat_admin")).json()
    assert a["state"] == "void"
    r = client.post(f"{API}/agreements/{approved['agreement_id']}/sign", json={}, headers=w.h("gat_admin"))
    assert r.status_code == 409 and r.json()["state"] == "void"
