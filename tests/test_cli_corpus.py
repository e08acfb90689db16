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


def test_cli_usage_errors_and_stats_are_in_chinese(capsys):
    import pytest

    from assistant.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["corpus"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "缺少必需的参数" in err and "用法：" in err
    assert "required" not in err and "usage" not in err
    with pytest.raises(SystemExit):
        main(["corpus", "stats", "--bogus"])
    assert "无法识别的参数：--bogus" in capsys.readouterr().err
    assert main(["corpus", "stats"]) == 0
    out = capsys.readouterr().out
    assert "类型 章" in out and "强度 " in out and "目次" in out
    for english in ("chapter", "clause", "shall", "should", "toc", "doc-title"):
        assert english not in out
