"""The words of the key observations, one phrasebook per language (`en`, `zh`).

`engine.render.observations` decides what is worth saying from the numbers and asks the
phrasebook of the report's language how to say it: `BOOKS[lang].leads(top, label, ...)`. Each
phrase is a function of facts already computed and formatted there (trial names, counts, number
strings), so both languages state the same facts with the same number strings, and a third
language is one more module with the same names and signatures (tests/test_observations.py
holds the two books to that).

The regions of a report (its tables' headers, the sentences under them, the figures' captions,
the model notes, how to reproduce it, its log row) have their own books, `REGIONS[lang]`
(`regions_en`, `regions_zh`, held to the same rule by tests/test_languages.py): the templates
and the render modules ask `say.<phrase>` of the report's language.
"""

from __future__ import annotations

from types import ModuleType

from . import en, regions_en, regions_zh, zh

BOOKS: dict[str, ModuleType] = {"en": en, "zh": zh}
REGIONS: dict[str, ModuleType] = {"en": regions_en, "zh": regions_zh}


def regions(lang: str | None) -> ModuleType:
    """The words of the regions of a report in `lang` (English where it names none)."""
    return REGIONS.get(lang or "en", regions_en)
