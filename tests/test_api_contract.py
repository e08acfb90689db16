"""Issue 13: offline API docs, the access log, and the small contract points (each a
reproduction of what the fault-injection review found)."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from fastapi.testclient import TestClient

from tests.conftest import tiny_app


@pytest.fixture(scope="module")
def client(tiny_module, tmp_path_factory):
    data = tmp_path_factory.mktemp("contract-data")
    with TestClient(tiny_app(tiny_module, data_dir=data, rate_limit_per_minute=0)) as c:
        yield c


@pytest.mark.parametrize("page,assets", [("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
                                         ("/redoc", ("redoc.standalone.js",))])
def test_docs_pages_load_every_asset_from_the_service_itself(client, page, assets):
    html = client.get(page).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url: ?'([^']+)'", html)
    assert urls and all(u.startswith("/") for u in urls), urls  # nothing from a CDN or font host
    for name in assets:
        url = next(u for u in urls if u.endswith(name))
        r = client.get(url)
        assert r.status_code == 200 and len(r.content) > 50_000, (url, r.status_code)
    if page == "/docs":
        assert "validatorUrl" in html  # no badge fetched from validator.swagger.io
    assert client.get("/openapi.json").status_code == 200


def test_access_log_is_one_json_line_per_request_without_keys_or_questions(tiny_module, tmp_path, capfd):
    log_file = tmp_path / "logs" / "access.jsonl"
    with TestClient(tiny_app(tiny_module, api_keys="secret-key-1", access_log_file=log_file,
                             data_dir=tmp_path / "data")) as c:
        c.post("/v1/search", json={"query": "保密的检索内容"}, headers={"X-API-Key": "secret-key-1",
                                                                     "X-Request-ID": "rid-1"})
        c.get("/v1/roles", headers={"X-API-Key": "wrong"})
        c.get("/healthz")
    lines = [json.loads(x) for x in log_file.read_text(encoding="utf-8").splitlines()]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("POST", "/v1/search", 200), ("GET", "/v1/roles", 401), ("GET", "/healthz", 200)]
    first = lines[0]
    assert set(first) >= {"time", "request_id", "key_id", "client_ip", "method", "path", "status", "latency_ms"}
    assert first["request_id"] == "rid-1" and first["key_id"].startswith("k-") and first["latency_ms"] > 0
    assert first["question_chars"] == 7 and "question" not in first
    assert lines[1]["key_id"] == "invalid"
    text = log_file.read_text(encoding="utf-8")
    assert "secret-key-1" not in text and "保密" not in text
    err = capfd.readouterr().err  # the same lines on stderr
    assert '"request_id": "rid-1"' in err and "保密" not in err


@pytest.mark.parametrize("path,payload", [
    ("/v1/ask", {"question": "\u200b\u200c\u200d\ufeff"}),
    ("/v1/ask", {"question": "\u2060 \u3000\u200e\u00ad"}),
    ("/v1/search", {"query": "\u200b\u3164\u200b"}),
])
def test_invisible_questions_are_422(client, path, payload):
    r = client.post(path, json=payload)
    assert r.status_code == 422 and "不能为空" in r.json()["detail"], r.text


def test_service_layer_refuses_invisible_questions_too(client):
    from assistant.errors import InvalidQueryError

    with pytest.raises(InvalidQueryError, match="不能为空"):
        client.app.state.chat.ask("\u200b\ufeff")


@pytest.fixture(scope="module")
def reports_client(corpus, tmp_path_factory):
    """The report routes need only the corpus and the drafter: the real corpus, no index."""
    from types import SimpleNamespace

    from assistant.api.app import create_app
    from assistant.reports.draft import Drafter
    from assistant.settings import Settings

    tmp = tmp_path_factory.mktemp("reports")
    chat = SimpleNamespace(index=SimpleNamespace(corpus=corpus), drafter=Drafter(corpus))
    s = Settings(data_dir=tmp / "data", index_dir=tmp / "index", open_mode=True, access_log=False)
    with TestClient(create_app(s, chat=chat)) as c:
        yield c


@pytest.mark.parametrize("raw,field", [
    ('{"总产值（亿元）": {"申报时": 1e400}}', "指标.总产值（亿元）.申报时"),
    ('{"总产值（亿元）": {"上一年": NaN}}', "指标.总产值（亿元）.上一年"),
    ('{"企业数（个）": {"申报时": -Infinity}}', "指标.企业数（个）.申报时"),
    ('{"企业数（个）": {"申报时": "inf"}}', "指标.企业数（个）.申报时"),
])
def test_non_finite_numbers_in_report_forms_are_422_naming_the_field(reports_client, raw, field):
    assert "企业数" in json.dumps(reports_client.get("/v1/reports/fields").json(), ensure_ascii=False)
    body = '{"type": "summary", "form": {"单位": "示例单位", "指标": ' + raw + "}}"
    r = reports_client.post("/v1/reports/draft", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422 and field in r.json()["detail"] and "有限的数字" in r.json()["detail"], r.text
    ok = body.replace(raw, '{"企业数（个）": {"申报时": 12, "上一年": 10}}')
    assert reports_client.post("/v1/reports/draft", content=ok.encode(),
                               headers={"content-type": "application/json"}).status_code == 200


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        yield b'{"query": "'
        for _ in range(80):
            yield "品".encode() * 300  # 72 KB in total, no Content-Length
        yield b'"}'

    r = client.post("/v1/search", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "上限" in r.json()["detail"]


@pytest.mark.parametrize("method,path", [("PUT", "/v1/documents"), ("DELETE", "/v1/roles"),
                                         ("PUT", "/v1/search"), ("PATCH", "/v1/ask")])
def test_wrong_method_is_405(client, method, path):
    r = client.request(method, path, content=b"{}", headers={"content-type": "text/plain"})
    assert r.status_code == 405 and "不支持此请求方法" in r.json()["detail"]


def test_invalid_utf8_is_422_in_chinese_and_documented(client):
    r = client.post("/v1/search", content=b'{"query": "\xff\xfe\xb9"}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_encoding" and "UTF-8" in r.json()["detail"]
    spec = client.get("/openapi.json").json()
    assert "UTF-8" in spec["paths"]["/v1/search"]["post"]["responses"]["422"]["description"]
    assert {"408", "503"} <= set(spec["paths"]["/v1/ask"]["post"]["responses"])


def test_out_of_range_and_wrong_type_messages_say_what_is_allowed(client):
    r = client.post("/v1/search", json={"query": "品牌", "top_k": 500})
    assert r.status_code == 422 and "1 到 50" in r.json()["detail"] and "500" in r.json()["detail"]
    r = client.post("/v1/search", json={"query": "品牌", "filters": {"doc_ids": "tiny"}})
    assert r.status_code == 422 and "「文件编号」应为列表" in r.json()["detail"]
    r = client.post("/v1/ask", json={"question": "品牌", "doc_ids": "tiny"})
    assert r.status_code == 422 and "应为列表" in r.json()["detail"]
    r = client.post("/v1/feedback", json={"session_id": "x", "turn": 0, "rating": 1})
    assert r.status_code == 422 and "1 到 100000" in r.json()["detail"]


def test_sessions_and_feedback_are_written_with_synchronous_full(client):
    store = client.app.state.chat.store
    assert store._db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with sqlite3.connect(store.path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
