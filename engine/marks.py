"""The marks a verdict or a status is shown with, on every page: one table, one function each.

The user's documents mark answers ✅ (confirmed), ❌ (refuted), 🟡 (anything in between) and ⏳
(not yet), and experiments ⏳ planned, 🔆 running, ✅ done, 🔴 failed, 📝 draft (on no page but
`research status`).
"""

from __future__ import annotations

VERDICT_MARKS = {"pass": "✅", "yes": "✅", "confirmed": "✅", "fail": "❌", "no": "❌", "refuted": "❌"}
STATUS_MARKS = {"planned": "⏳", "running": "🔆", "done": "✅", "failed": "🔴", "draft": "📝"}
#: The kanban's column order.
STATUS_ORDER = {"running": 0, "planned": 1, "done": 2, "failed": 3, "draft": 4}
PENDING = "⏳"
OTHER = "🟡"


def verdict_mark(verdict: str | None) -> str:
    """✅ for a pass, ❌ for a fail, 🟡 for any other verdict, ⏳ when there is none yet."""
    if verdict is None:
        return PENDING
    return VERDICT_MARKS.get(str(verdict).lower(), OTHER)


def status_text(status: str) -> str:
    """`🔆 running`: a status with its mark."""
    return f"{STATUS_MARKS.get(status, '')} {status}".strip()
