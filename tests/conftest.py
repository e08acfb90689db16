from __future__ import annotations

import os
from pathlib import Path

import pytest

# Never reach for a model hub, even by accident.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus():
    from assistant.corpus.store import load_corpus

    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def vocab():
    from assistant.corpus.vocab import load_vocab

    return load_vocab(CORPUS / "vocab")
