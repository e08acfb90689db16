"""Issue 13, security: sessions belong to the key that started them; one rate limit
across workers, failed keys throttled, X-Forwarded-For only from configured proxies."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from tests.conftest import tiny_app

K1, K2 = {"X-API-Key": "key-one"}, {"X-API-Key": "key-two"}


@pytest.fixture
def keyed(tiny_module, tmp_path):
    with TestClient(tiny_app(tiny_module, api_keys="key-one,key-two", data_dir=tmp_path / "data")) as c:
        yield c


def test_another_key_cannot_continue_read_or_rate_a_session(keyed, tmp_path):
    first = keyed.post("/v1/ask", json={"question": "举报违法侵权行为"}, headers=K1).json()
    sid = first["session_id"]
    assert first["stored"] and first["citations"]
    # key 2: no turn 2 on key 1's context, no citations read through a follow-up, no feedback
    for r in (keyed.post("/v1/ask", json={"question": "第一条具体怎么做？", "session_id": sid}, headers=K2),
              keyed.post("/v1/feedback", json={"session_id": sid, "turn": 1, "rating": -1}, headers=K2)):
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "unknown_session" and "会话" in r.json()["detail"]
        assert "举报" not in r.text and "2.1.1" not in r.text
    # the owner carries on as before
    second = keyed.post("/v1/ask", json={"question": "第一条具体怎么做？", "session_id": sid}, headers=K1).json()
    assert second["turn"] == 2 and second["citations"][0]["clause"].startswith(first["citations"][0]["clause"])
    assert keyed.post("/v1/feedback", json={"session_id": sid, "turn": 2, "rating": 1}, headers=K1).status_code == 200
    store = keyed.app.state.chat.store
    assert [t.question for t in store.turns(sid)] == ["举报违法侵权行为", "第一条具体怎么做？"]
    assert len(store.feedback()) == 1
    # the owner is stored as a hash: the key itself is nowhere in the database
    raw = sqlite3.connect(tmp_path / "data" / "sessions.sqlite3").execute("SELECT owner FROM sessions").fetchall()
    assert raw and all(o.startswith("key:") and "key-one" not in o for (o,) in raw)


def test_a_client_chosen_session_id_is_not_created(keyed):
    r = keyed.post("/v1/ask", json={"question": "国际化战略", "session_id": "my-own-id"}, headers=K1)
    assert r.status_code == 404 and r.json()["code"] == "unknown_session"
    assert not keyed.app.state.chat.store.exists("my-own-id")
    r = keyed.post("/v1/feedback", json={"session_id": "my-own-id", "turn": 1, "rating": 1}, headers=K1)
    assert r.status_code == 404
    # the server makes the ids
    sid = keyed.post("/v1/ask", json={"question": "国际化战略"}, headers=K1).json()["session_id"]
    assert sid != "my-own-id" and len(sid) == 32


def test_open_mode_sessions_and_the_cli_share_the_open_owner(tiny_module, tmp_path):
    with TestClient(tiny_app(tiny_module, data_dir=tmp_path / "data")) as c:
        sid = c.post("/v1/ask", json={"question": "国际化战略"}).json()["session_id"]
        assert c.post("/v1/ask", json={"question": "这一条是强制的吗", "session_id": sid}).json()["turn"] == 2
        assert c.app.state.chat.store.owner(sid) == "open"


def test_one_rate_limit_across_workers(tiny_module, tmp_path):
    """Two app instances on one data dir are two workers: the limit is for both together."""
    data = tmp_path / "data"
    with TestClient(tiny_app(tiny_module, api_keys="key-one", rate_limit_per_minute=4, data_dir=data)) as w1, \
            TestClient(tiny_app(tiny_module, api_keys="key-one", rate_limit_per_minute=4, data_dir=data)) as w2:
        codes = [(w1 if i % 2 else w2).get("/v1/roles", headers=K1).status_code for i in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]


def test_rate_limit_falls_back_per_process_when_the_store_is_unusable(tiny_module, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with TestClient(tiny_app(tiny_module, rate_limit_per_minute=2, data_dir=blocker / "data")) as c:
        codes = [c.get("/v1/roles").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_failed_keys_are_throttled_per_client_and_good_keys_still_pass(tiny_module, tmp_path):
    with TestClient(tiny_app(tiny_module, api_keys="key-one", auth_fail_per_minute=3,
                             data_dir=tmp_path / "data")) as c:
        codes = [c.get("/v1/roles", headers={"X-API-Key": f"guess-{i}"}).status_code for i in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        r = c.get("/v1/roles")  # no key at all counts as a failed attempt too
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "秒后重试" in r.json()["detail"]
        assert c.get("/v1/roles", headers=K1).status_code == 200


def test_x_forwarded_for_is_believed_only_from_configured_proxies(tiny_module, tmp_path):
    app = tiny_app(tiny_module, rate_limit_per_minute=2, trusted_proxies="10.0.0.0/30", data_dir=tmp_path / "d")

    def codes(peer: str, xff: str | None, n: int = 3) -> list[int]:
        with TestClient(app, client=(peer, 40000)) as c:
            h = {"X-Forwarded-For": xff} if xff else {}
            return [c.get("/v1/roles", headers=h).status_code for _ in range(n)]

    # behind the trusted proxy each real client has its own bucket (the right-most untrusted hop)
    assert codes("10.0.0.1", "203.0.113.7") == [200, 200, 429]
    assert codes("10.0.0.1", "198.51.100.9, 10.0.0.2") == [200, 200, 429]
    # a client that spoofs the left part of the header does not get a fresh bucket
    assert codes("10.0.0.1", "1.2.3.4, 203.0.113.7", 1) == [429]
    # an untrusted peer's header is ignored: its own address is the bucket, whatever it claims
    assert codes("192.0.2.50", "203.0.113.99", 2) == [200, 200]
    assert codes("192.0.2.50", "203.0.113.100", 1) == [429]


def test_keys_are_compared_in_constant_time_against_every_key(monkeypatch):
    import hmac

    from assistant.api import deps

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(deps.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    keys = ["alpha", "beta", "gamma"]
    assert deps.match_key("alpha", keys) == "alpha" and len(calls) == 3  # no early exit on a match
    assert deps.match_key("nope", keys) is None and len(calls) == 6
    assert deps.match_key("", keys) is None and deps.match_key(None, keys) is None
    assert deps.key_id("alpha") != "alpha" and deps.key_owner("alpha") != deps.key_owner("beta")
