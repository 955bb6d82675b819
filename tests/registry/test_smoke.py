def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"]["status"] == "ok"


def test_world_builds_and_scope(client, world):
    r = client.post(
        "/api/v1/agencies",
        headers=world.h("suzhou_authority"),
        json={"code": "nj-x", "uscc": "91350100M000100Y43", "name": "南京测试局", "region_code": "320100"},
    )
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "registry.out_of_scope"
