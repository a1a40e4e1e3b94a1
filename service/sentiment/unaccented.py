"""Vietnamese typed without diacritics ("san pham tot", "giao hang cham qua", "khong hai long").

People type Vietnamese without tone marks on phones and in chat, and a new user found such text
scored neutral: no term matched. The lexicon therefore keeps a second, mark-free copy of the
Vietnamese lists for texts that carry no Vietnamese mark at all. Stripping merges syllables
("tồi" bad / "tôi" I → "toi", "muộn" late / "muốn" want → "muon"), so a mark-free term whose
form is mostly another syllable in real Vietnamese, or is an English word, is left out of the
copy (the list is in `vi.json` under `unaccented_skip`).
"""

from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


def strip_marks(text: str) -> str:
    """`text` without combining marks, and đ as d ("Chất lượng tốt" → "Chat luong tot")."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def has_marks(text: str) -> bool:
    """Whether any Latin letter of `text` carries a diacritic (or is đ)."""
    return any(ch.isalpha() and ch.isascii() is False and strip_marks(ch) != ch for ch in text)
