"""When a report's numbers are stale: one rule, for `research status` and `research check`.

The numbers in a report came from the run its `record` region describes. They are stale when
that run would not be the run of today:

* the spec keys that decide the numbers changed (`record.spec_digest` of the front matter);
* the code that produces numbers changed (`store.engine_code_hash`);
* a trial's cache key changed — its data or a plugin's code — which only a caller that has
  fingerprinted the data can tell (`research check` passes the trials' keys of today).

A report marked done without a record (adopted, or run before records existed) is stale too.
A report left `running` with no live run behind it is not stale but stuck, and said so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.notebook.store import KeyParts, engine_code_hash

STUCK = "status is 'running' but no run is going on (killed?); run it again"


def stale_reasons(
    record: Mapping[str, Any] | None,
    *,
    status: str,
    spec_now: str,
    parts_now: Mapping[str, Any] | None = None,
) -> list[str]:
    """Why the numbers are stale (empty when they are not). `spec_now` is today's spec digest
    (with the record's --set options); `parts_now` today's key parts of each trial
    (`store.KeyParts`), when the caller has fingerprinted the data: then each changed trial is
    named with what changed, `net (spec changed)`."""
    if record is None:
        return ["no run record"] if status == "done" else []
    recorded = {t.get("name"): t.get("parts") for t in record.get("trials", []) if t.get("parts")}
    if parts_now is not None and recorded:
        reasons = []
        for name, parts in parts_now.items():
            if name not in recorded:
                reasons.append(f"{name} (new)")
            elif parts.key != KeyParts(**recorded[name]).key:
                reasons.append(f"{name} ({parts.reason_against(recorded[name])})")
        if not reasons and record.get("spec") != spec_now:
            reasons.append("the report's sections changed (metrics, tables, figures, decision)")
        return reasons
    reasons = []
    if record.get("spec") != spec_now:
        reasons.append("spec changed")
    if record.get("code") != engine_code_hash():
        reasons.append("code changed")
    return reasons
