"""Optional LLM phrasing (OpenAI-compatible server, e.g. vLLM or Ollama serving Qwen).

The LLM sees only the validated extractive citations, numbered, and must end every
sentence with the citation marker of the unit it rests on. Afterwards each sentence
is checked: a sentence without a marker, or with a marker that is not one of the
given units, is removed (and reported in `notes`). If nothing survives, or the call
fails or times out, the extractive answer is returned (mode `llm-fallback`).
Unconfigured: this module is never called and nothing touches the network.
"""

from __future__ import annotations

import re

from assistant.answer.models import Answer, Citation
from assistant.settings import Settings

SENTENCE_RE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
MARKER_RE = re.compile(r"〔([^〔〕]+)〕")

PROMPT = """你是区域品牌培育政策助手。只能依据下列条款回答问题，不得引入条款以外的内容、数字或条款号。
要求：用简洁的中文回答；每一句话末尾必须附上它所依据条款的引用标记，标记必须与下列方括号后的写法完全一致；不要编造条款。

问题：{question}

可用条款：
{evidence}
"""


class LLMPhraser:
    def __init__(self, settings: Settings) -> None:
        from llama_index.llms.openai_like import OpenAILike

        self.llm = OpenAILike(
            model=settings.llm_model or "",
            api_base=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",
            is_chat_model=True,
            timeout=settings.llm_timeout,
            max_retries=0,
            temperature=0.1,
        )

    def phrase(self, question: str, extractive: Answer) -> Answer:
        if not extractive.supported or not extractive.citations:
            return extractive
        allowed: dict[str, Citation] = {c.cite.strip("〔〕"): c for c in extractive.citations}
        evidence = "\n".join(f"[{i}] {c.cite} {c.quote.replace(chr(10), ' ')}"
                             for i, c in enumerate(extractive.citations, 1))
        try:
            from llama_index.core.llms import ChatMessage

            resp = self.llm.chat([ChatMessage(role="user", content=PROMPT.format(question=question, evidence=evidence))])
            text = (resp.message.content or "").strip()
        except Exception as exc:  # noqa: BLE001 - any failure falls back to the extractive answer
            return self._fallback(extractive, f"大模型调用失败，已使用原文摘录答复（{type(exc).__name__}）")
        kept, removed, used = [], [], []
        for sent in (s.strip() for s in SENTENCE_RE.findall(text)):
            if not sent:
                continue
            markers = MARKER_RE.findall(sent)
            if markers and all(m.strip() in allowed for m in markers):
                kept.append(sent)
                used += [allowed[m.strip()] for m in markers if allowed[m.strip()] not in used]
            else:
                removed.append(sent)
        if not kept:
            return self._fallback(extractive, "大模型答复中没有可核验的句子，已使用原文摘录答复")
        body = "".join(kept)
        basis = "\n".join(f"- {c.cite} {c.quote.replace(chr(10), ' ')}" for c in used)
        used_ids = {c.uid for c in used}
        return Answer(question=extractive.question, answer=f"{body}\n\n依据原文：\n{basis}", supported=True,
                      citations=used, related=extractive.related, mode="llm", coverage=extractive.coverage,
                      direct=body, points=[p for p in extractive.points if p.citation.uid in used_ids],
                      strength=extractive.strength, force=extractive.force, confidence=extractive.confidence,
                      effective_question=extractive.effective_question, roles=extractive.roles,
                      phases=extractive.phases, doc_ids=extractive.doc_ids,
                      notes=[f"已删除无可核验引用的句子：{s}" for s in removed])

    @staticmethod
    def _fallback(extractive: Answer, note: str) -> Answer:
        extractive.mode = "llm-fallback"
        extractive.notes = [*extractive.notes, note]
        return extractive
