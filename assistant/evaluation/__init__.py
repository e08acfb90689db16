"""Evaluation: sets (sets.py), retrieval metrics (retrieval.py), answer metrics (answers.py)."""

from assistant.evaluation.answers import check_answer_regressions, format_answer_table, run_answer_eval
from assistant.evaluation.retrieval import check_regressions, format_table, load_gold, run_eval
from assistant.evaluation.sets import EvalSet, load_eval_set

__all__ = ["EvalSet", "check_answer_regressions", "check_regressions", "format_answer_table", "format_table",
           "load_eval_set", "load_gold", "run_answer_eval", "run_eval"]
