"""The JSON API for hotline operators and mini-program clients (contract: docs/openapi.yaml)."""

import io

from intake import pow as p
from tests.conftest import jpeg_with_exif


def _pow(client, purpose: str = "submit") -> dict:
    ch = client.get(f"/api/v1/pow?purpose={purpose}").get_json()
    return {"challenge": ch["challenge"], "nonce": p.solve(ch["challenge"], ch["bits"])}


def test_submit_login_read_message_evidence_certificate(client) -> None:
    r = client.post("/api/v1/reports", json={"description": "烟花爆竹零售点里面住人，还在店里做饭", "town": "suqiao",
                                             "pow": _pow(client)})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert set(body) == {"report_number", "receipt", "certificate"}
    assert body["certificate"]["report_number"] == body["report_number"]
    assert "set-cookie" not in {k.lower() for k in r.headers.keys()}

    s = client.post("/api/v1/sessions", json={"receipt": body["receipt"], "pow": _pow(client, "login")})
    assert s.status_code == 200
    auth = {"Authorization": f"Bearer {s.get_json()['token']}"}
    view = client.get("/api/v1/report", headers=auth).get_json()
    assert view["report_number"] == body["report_number"] and view["status"] == "received"
    assert view["content"]["description"].startswith("烟花爆竹零售点")
    assert client.post("/api/v1/report/messages", json={"body": "店主晚上十点后在卖"}, headers=auth).status_code == 201
    ev = client.post("/api/v1/report/evidence", data={"files": [(io.BytesIO(jpeg_with_exif()), "x.jpg")]}, headers=auth,
                     content_type="multipart/form-data")
    assert ev.status_code == 201 and ev.get_json() == {"added": 1}
    view = client.get("/api/v1/report", headers=auth).get_json()
    assert view["messages"][0]["body"] == "店主晚上十点后在卖" and len(view["attachments"]) == 1
    cert = client.get("/api/v1/report/certificate", headers=auth).get_json()
    assert cert["signature"] == body["certificate"]["signature"]
    assert client.delete("/api/v1/sessions/current", headers=auth).status_code == 204
    assert client.get("/api/v1/report", headers=auth).status_code == 401


def test_multipart_submission_with_files(client) -> None:
    import json

    r = client.post("/api/v1/reports", data={"report": json.dumps({"description": "冷库液氨管道结霜漏气", "pow": _pow(client)}),
                                             "files": [(io.BytesIO(jpeg_with_exif()), "a.jpg")]},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()


def test_api_errors_are_json_chinese_and_per_field(client) -> None:
    r = client.post("/api/v1/reports", json={"description": "", "town": "nowhere", "pow": _pow(client)})
    assert r.status_code == 400
    assert set(r.get_json()["errors"]) == {"description", "town"}
    r = client.post("/api/v1/reports", json={"description": "没有工作量证明的提交"})
    assert r.status_code == 400 and "pow" in r.get_json()["errors"]
    r = client.post("/api/v1/reports", data="not json", content_type="text/plain")
    assert r.status_code == 400 and "JSON" in r.get_json()["error"]
    r = client.post("/api/v1/sessions", json={"receipt": "0000000000000000", "pow": _pow(client, "login")})
    assert r.status_code == 401 and "receipt" in r.get_json()["errors"]
    assert client.get("/api/v1/report").status_code == 401
    assert client.get("/api/v1/report", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/api/v1/nothing").get_json()["error"] == "页面不存在。"


def test_pow_is_single_use_through_the_api(client) -> None:
    pw = _pow(client)
    assert client.post("/api/v1/reports", json={"description": "第一次提交的内容", "pow": pw}).status_code == 201
    r = client.post("/api/v1/reports", json={"description": "重放同一个工作量证明", "pow": pw})
    assert r.status_code == 400 and "已被使用过" in r.get_json()["error"]
