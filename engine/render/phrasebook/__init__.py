"""The words of the key observations, one phrasebook per language (`en`, `zh`).

`engine.render.observations` decides what is worth saying from the numbers and asks the
phrasebook of the report's language how to say it: `BOOKS[lang].leads(top, label, ...)`. Each
phrase is a function of facts already computed and formatted there (trial names, counts, number
strings), so both languages state the same facts with the same number strings, and a third
language is one more module with the same names and signatures (tests/test_observations.py
holds the two books to that).
"""

from __future__ import annotations

from types import ModuleType

from . import en, zh

BOOKS: dict[str, ModuleType] = {"en": en, "zh": zh}
