"""Issue 15, API side on the tiny corpus: key scopes (admin, widget), the widget's origin
allow-list and page, the admin routes, curated pairs (validation, storage, matching, export)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import tiny_app

PORTAL = "https://portal.example.gov.cn"
FULL, ADMIN, WIDGET = {"X-API-Key": "full-key"}, {"X-API-Key": "admin-key"}, {"X-API-Key": "wk-portal"}
FROM_PORTAL = {**WIDGET, "Origin": PORTAL}


@pytest.fixture
def client(tiny, tmp_path):
    app = tiny_app(tiny, api_keys="full-key", admin_keys="admin-key", widget_keys={"wk-portal": [PORTAL]},
                   data_dir=tmp_path / "data", curated_dir=tmp_path / "curated", access_log=False)
    with TestClient(app) as c:
        c.curated_dir = tmp_path / "curated"
        yield c


def test_each_key_has_its_scopes(client):
    ask = {"question": "怎么举报侵权"}
    assert client.post("/v1/ask", json=ask, headers=FULL).status_code == 200
    assert client.post("/v1/ask", json=ask, headers=ADMIN).status_code == 200
    r = client.post("/v1/ask", json=ask, headers=FROM_PORTAL)
    assert r.status_code == 200
    sid = r.json()["session_id"]
    # the widget key reads the documents (a citation opens its clause) and searches…
    assert client.get("/v1/documents/tiny/clauses", params={"label": "2.1.1 a)"}, headers=FROM_PORTAL).status_code == 200
    assert client.post("/v1/search", json={"query": "侵权"}, headers=FROM_PORTAL).status_code == 200
    # …and nothing else
    for method, path, body in (("POST", "/v1/feedback", {"session_id": sid, "turn": 1, "rating": -1}),
                               ("GET", "/v1/reports/fields", None), ("GET", "/v1/admin/turns", None),
                               ("GET", "/v1/admin/curated", None)):
        r = client.request(method, path, json=body, headers=FROM_PORTAL)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (path, r.text)
        assert not r.json()["detail"].isascii()
    # an ordinary API key is not an admin key
    r = client.get("/v1/admin/turns", headers=FULL)
    assert r.status_code == 403 and "管理员密钥" in r.json()["detail"]
    assert client.get("/v1/admin/turns", headers=ADMIN).status_code == 200
    assert client.get("/v1/admin/turns").status_code == 401


def test_a_widget_key_only_works_from_its_sites(client):
    ask = {"question": "怎么举报侵权"}
    assert client.post("/v1/ask", json=ask, headers=FROM_PORTAL).status_code == 200
    r = client.post("/v1/ask", json=ask, headers={**WIDGET, "Origin": "https://evil.example.com"})
    assert r.status_code == 403 and r.json()["code"] == "origin_not_allowed"
    assert "https://evil.example.com" in r.json()["detail"]
    r = client.post("/v1/ask", json=ask, headers=WIDGET)  # not from a browser at all
    assert r.status_code == 403 and r.json()["code"] == "origin_not_allowed"
    # the /widget page itself: same host (any scheme: a TLS proxy may sit in front), or a same-origin fetch
    assert client.post("/v1/ask", json=ask, headers={**WIDGET, "Origin": "https://testserver"}).status_code == 200
    assert client.get("/v1/roles", headers={**WIDGET, "Sec-Fetch-Site": "same-origin"}).status_code == 200
    # the listed site may also call the API from its own pages (CORS)
    pre = client.options("/v1/ask", headers={"Origin": PORTAL, "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type,x-api-key"})
    assert pre.headers.get("access-control-allow-origin") == PORTAL


def test_widget_visitors_have_a_budget_each(tiny, tmp_path):
    """One widget key serves every visitor of a portal: the rate limit counts per visitor."""
    import httpx

    from tests.conftest import serve_in_thread

    app = tiny_app(tiny, widget_keys={"wk-portal": [PORTAL]}, data_dir=tmp_path / "data", rate_limit_per_minute=2,
                   trusted_proxies="127.0.0.1", access_log=False)
    with serve_in_thread(app) as url:
        def get(ip):
            return httpx.get(f"{url}/v1/roles", headers={**FROM_PORTAL, "X-Forwarded-For": ip}).status_code

        assert [get("10.0.0.1") for _ in range(3)] == [200, 200, 429]
        assert get("10.0.0.2") == 200


def test_the_widget_page_is_framed_only_by_the_keys_sites(client, tiny, tmp_path):
    r = client.get("/widget", params={"key": "wk-portal"})
    assert r.status_code == 200 and "<html lang=\"zh-CN\">" in r.text
    csp = r.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {PORTAL}" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "wk-portal" not in r.text  # the page reads its key from its own address, nothing is templated in
    r = client.get("/widget", params={"key": "full-key"})  # a full key must never be written into a page
    assert r.status_code == 403 and "挂件专用密钥" in r.text and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert client.get("/widget", params={"key": "nope"}).status_code == 401
    assert client.get("/widget").status_code == 401
    js = client.get("/widget.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "data-key" in js.text and "iframe" in js.text
    for path in ("/widget/app.js", "/widget/app.css"):
        assert client.get(path).status_code == 200
    # local open mode: the page needs no key
    with TestClient(tiny_app(tiny, data_dir=tmp_path / "d2")) as c:
        assert c.get("/widget").status_code == 200


def test_admin_lists_conversations_and_feedback(client):
    sids = []
    for q in ("怎么举报侵权", "国际化怎么做"):
        sids.append(client.post("/v1/ask", json={"question": q}, headers=FULL).json()["session_id"])
    assert client.post("/v1/feedback", json={"session_id": sids[0], "turn": 1, "rating": -1, "comment": "引用不对"},
                       headers=FULL).status_code == 200
    assert client.post("/v1/feedback", json={"session_id": sids[1], "turn": 1, "rating": 1}, headers=FULL).status_code == 200
    down = client.get("/v1/admin/turns", params={"feedback": "down"}, headers=ADMIN).json()
    assert [t["question"] for t in down] == ["怎么举报侵权"]
    assert down[0]["rating"] == -1 and down[0]["comment"] == "引用不对" and down[0]["citations"][0].startswith("〔T/TINY")
    assert down[0]["units"][0][0] == "tiny"
    everything = client.get("/v1/admin/turns", headers=ADMIN).json()
    assert {t["question"] for t in everything} == {"怎么举报侵权", "国际化怎么做"}
    r = client.get("/v1/admin/turns", params={"feedback": "sideways"}, headers=ADMIN)
    assert r.status_code == 422


def test_a_curated_pair_is_checked_stored_and_answers_the_same_question(client):
    r = client.post("/v1/ask", json={"question": "怎么举报侵权"}, headers=FULL)
    sid = r.json()["session_id"]
    assert r.json()["citations"][0]["clause"] != "3.1"
    # checked against the corpus, in Chinese
    bad = client.post("/v1/admin/curated", headers=ADMIN, json={"question": "怎么举报侵权",
                                                                 "units": [{"doc_id": "tiny", "clause": "3.9"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_curated_pair" and "3.9" in bad.json()["detail"]
    bad = client.post("/v1/admin/curated", headers=ADMIN, json={"question": "怎么举报侵权",
                                                                 "units": [{"doc_id": "nope", "clause": "1"}]})
    assert bad.status_code == 422 and "未知的文件编号" in bad.json()["detail"]
    bad = client.post("/v1/admin/curated", headers=ADMIN, json={"question": "怎么举报侵权", "units": []})
    assert bad.status_code == 422 and not bad.json()["detail"].isascii()
    bad = client.post("/v1/admin/curated", headers=ADMIN, json={"question": "怎么举报侵权", "session_id": sid,
                                                                 "turn": 7, "units": [{"doc_id": "tiny", "clause": "3.1"}]})
    assert bad.status_code == 404
    r = client.post("/v1/admin/curated", headers=ADMIN, json={
        "question": "怎么举报侵权", "units": [{"doc_id": "tiny", "clause": "3.1"}], "note": "应引用国际化条款",
        "session_id": sid, "turn": 1})
    assert r.status_code == 200, r.text
    pair = r.json()
    assert pair["cites"] == ["〔T/TINY 1—2026 3.1〕"] and pair["file"] == "admin.jsonl"
    row = json.loads((client.curated_dir / "admin.jsonl").read_text(encoding="utf-8"))
    assert row["units"] == [["tiny", "3.1"]] and row["source"] == {"session_id": sid, "turn": 1}
    # the same question — other punctuation, spacing, full-width or traditional forms — is answered with it
    for q in ("怎么举报侵权？", "怎么 举报侵权!", "怎麼舉報侵權"):
        a = client.post("/v1/ask", json={"question": q}, headers=FULL).json()
        assert a["curated"] == pair["id"] and a["coverage"] == "answered", q
        assert a["points"][0]["citation"]["cite"] == "〔T/TINY 1—2026 3.1〕"
    # a different question is not
    other = client.post("/v1/ask", json={"question": "怎么举报违法侵权行为给市场监管部门"}, headers=FULL).json()
    assert other["curated"] == ""
    listed = client.get("/v1/admin/curated", headers=ADMIN).json()
    assert [p["id"] for p in listed["pairs"]] == [pair["id"]] and listed["problems"] == []
    # curating the question again replaces the pair
    r2 = client.post("/v1/admin/curated", headers=ADMIN, json={"question": "怎么举报侵权？",
                                                                "units": [{"doc_id": "tiny", "clause": "2.1.1 a)"}]})
    assert [p["units"] for p in client.get("/v1/admin/curated", headers=ADMIN).json()["pairs"]] == [[["tiny", "2.1.1 a)"]]]
    assert client.delete(f"/v1/admin/curated/{r2.json()['id']}", headers=ADMIN).status_code == 200
    assert client.delete(f"/v1/admin/curated/{r2.json()['id']}", headers=ADMIN).status_code == 404
    assert client.post("/v1/ask", json={"question": "怎么举报侵权"}, headers=FULL).json()["curated"] == ""


def test_curated_files_are_checked_on_load_and_shared_between_processes(tiny, tmp_path):
    from assistant.curated import CuratedStore, question_key

    corpus = tiny[0]
    d = tmp_path / "curated"
    d.mkdir()
    (d / "team.jsonl").write_text(
        json.dumps({"question": "国际化", "units": [["tiny", "3.1"]]}, ensure_ascii=False) + "\n"
        + json.dumps({"question": "过时的", "units": [["tiny", "9.9"]]}, ensure_ascii=False) + "\n"
        + "not json\n", encoding="utf-8")
    a, b = CuratedStore(d, corpus), CuratedStore(d, corpus)
    assert [p.question for p in a.pairs] == ["国际化"]
    assert [(p["file"], p["line"]) for p in a.problems] == [("team.jsonl", 2), ("team.jsonl", 3)]
    assert "9.9" in a.problems[0]["reason"]
    a.add("怎麼打假？", [("tiny", "2.1.1 a)")])  # another worker's store sees it on its next question
    assert b.exact("怎么打假") is not None and b.exact("怎么打假").units == [("tiny", "2.1.1 a)")]
    assert question_key("怎麼 打假？") == question_key("怎么打假!") == "怎么打假"
    # a tolerant label is stored in its canonical form
    p = a.add("第三章", [("tiny", " 3.1 ")])
    assert p.units == [("tiny", "3.1")]


def test_curated_pairs_export_as_gold_rows(tiny, tmp_path):
    from assistant.curated import CuratedStore
    from assistant.evaluation import load_eval_set

    corpus = tiny[0]
    store = CuratedStore(tmp_path / "curated", corpus)
    store.add("怎么举报侵权", [("tiny", "3.1")], source={"session_id": "s", "turn": 1})
    path = store.export(tmp_path / "gold")
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["q"] == "怎么举报侵权" and rows[0]["gold"] == [["tiny", "3.1"]]
    assert "source:curated" in rows[0]["tags"] and "from:feedback" in rows[0]["tags"]
    es = load_eval_set(tmp_path / "gold", corpus)  # the external-sample format eval --gold reads
    assert es.answerable[0].gold == [("tiny", "3.1")]


def test_widget_keys_setting_is_checked_in_chinese(monkeypatch):
    from pydantic import ValidationError

    from assistant.settings import Settings

    monkeypatch.setenv("BA_WIDGET_KEYS", "wk=portal")
    with pytest.raises(ValidationError, match="应为 JSON"):
        Settings()
    monkeypatch.setenv("BA_WIDGET_KEYS", json.dumps({"wk": ["https://a.gov.cn/path"]}))
    with pytest.raises(ValidationError, match="不是网站来源"):
        Settings()
    monkeypatch.setenv("BA_WIDGET_KEYS", json.dumps({"wk": ["https://A.gov.cn/"]}))
    assert Settings().widget_keys == {"wk": ["https://a.gov.cn"]}
