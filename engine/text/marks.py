"""The marks a verdict or a status is shown with, on every page: one table, one function each.

The user's documents mark answers ✅ (confirmed), ❌ (refuted), 🟡 (anything in between) and ⏳
(not yet), and experiments ⏳ planned, 🔆 running, ✅ done, 🔴 failed, 📝 draft (on no page but
`research status`). A hub question has its own verdict, apart from its report's: verified ✅,
refuted ❌, inconclusive 🟡 or open 🔆 — a report whose rule held can answer "no".
"""

from __future__ import annotations

VERDICT_MARKS = {"pass": "✅", "yes": "✅", "confirmed": "✅", "fail": "❌", "no": "❌", "refuted": "❌"}
STATUS_MARKS = {"planned": "⏳", "running": "🔆", "done": "✅", "failed": "🔴", "draft": "📝"}
#: The kanban's column order.
STATUS_ORDER = {"running": 0, "planned": 1, "done": 2, "failed": 3, "draft": 4}
PENDING = "⏳"
OTHER = "🟡"
#: A hub question's verdict → its mark.
QUESTION_MARKS = {"verified": "✅", "refuted": "❌", "inconclusive": "🟡", "open": "🔆"}


def verdict_mark(verdict: str | None) -> str:
    """✅ for a pass, ❌ for a fail, 🟡 for any other verdict, ⏳ when there is none yet."""
    if verdict is None:
        return PENDING
    return VERDICT_MARKS.get(str(verdict).lower(), OTHER)


def status_text(status: str) -> str:
    """`🔆 running`: a status with its mark."""
    return f"{STATUS_MARKS.get(status, '')} {status}".strip()


def question_verdict(verdict: str | None) -> str:
    """A question's verdict when its rule gives it none: the report's, read as a yes or a no
    (pass → verified, fail → refuted, anything else → inconclusive)."""
    word = str(verdict or "").lower()
    if VERDICT_MARKS.get(word) == "✅" or word == "verified":
        return "verified"
    if VERDICT_MARKS.get(word) == "❌":
        return "refuted"
    return "inconclusive"


def question_mark(question: str | None, verdict: str | None = None) -> str:
    """The mark of a hub question: of its own verdict, else of its report's."""
    if question in QUESTION_MARKS:
        return QUESTION_MARKS[question]
    return verdict_mark(verdict)
