"""Small text checks shared by the API contract and the service layer."""

from __future__ import annotations

import re
import unicodedata

_CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")

# invisible letters that fonts draw as blank (Hangul fillers, braille blank)
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def is_blank(text: str) -> bool:
    """True when text has nothing visible: only whitespace, zero-width and other format
    characters (U+200B, U+200D, U+FEFF, U+2060, bidi marks…), controls, or lone
    combining marks. str.strip() leaves the zero-width ones in place."""
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in ("Z", "C") or cat in ("Mn", "Me") or ch in _BLANK_LETTERS or ch.isspace():
            continue
        return False
    return True


def cjk_pairs(text: str) -> set[str]:
    """The pairs of adjacent Chinese characters in text (区域品牌 → 区域, 域品, 品牌)."""
    return {text[i:i + 2] for i in range(len(text) - 1) if _CJK_PAIR.fullmatch(text[i:i + 2])}
