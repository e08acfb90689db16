from __future__ import annotations

import json

import pytest

from assistant.cli import main

pytestmark = pytest.mark.integration


def test_corpus_stats_json(capsys):
    assert main(["corpus", "stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    units = {d["doc_id"]: d["units"] for d in data["documents"]}
    assert len(units) == 5 and all(n > 10 for n in units.values())


def test_clause_json_with_children(capsys):
    assert main(["clause", "gxas-1220-2026", "6.4.4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["strength"] == "should" and data["doc_code"] == "T/GXAS 1220—2026"
    assert [c["label"] for c in data["children"]][:2] == ["6.4.4 a)", "6.4.4 b)"]


def test_clause_tolerant_label(capsys):
    assert main(["clause", "miit-pilot-guide", "三（五）"]) == 0
    assert "三、（五）" in capsys.readouterr().out


def test_unknown_clause_and_doc_exit_2_with_near_matches(capsys):
    assert main(["clause", "gxas-1220-2026", "6.4.9"]) == 2
    err = capsys.readouterr().err
    assert "6.4.4" in err and "Traceback" not in err
    assert main(["clause", "nope", "1"]) == 2
    assert "gxas-1220-2026" in capsys.readouterr().err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["clause"])
    assert exc.value.code == 2
    assert "参数错误" in capsys.readouterr().err
