"""A `Review` as `cronspec plan --explain` prints it: text, github annotations, or JSON data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..diagnostics.formats import FORMATTERS, to_json_obj
from .model import Review


def review_text(review: Review, fmt: str = "text") -> str:
    """A summary line; the findings as diagnostics (`path:line:col: warning[E901]: ...`, or
    GitHub workflow annotations for `github`); with text, a note per statement not explained."""
    findings = review.findings
    tasks = len({s.target.task for s in review.statements})
    lines = [
        f"cronspec plan --explain: {review.count('explained')} statements of {tasks} tasks "
        f"planned, {review.count('skipped')} not explainable, {review.count('failed')} failed "
        f"to plan; {len(findings)} flagged\n"
    ]
    if findings:
        lines.append(FORMATTERS["github" if fmt == "github" else "text"](findings))
    if fmt == "text":
        lines += [
            f"  note: {s.target.span}: {s.target.label} not explained: {s.note}\n"
            for s in review.statements
            if s.status == "skipped"
        ]
    return "".join(lines)


def review_json(review: Review) -> dict[str, Any]:
    """The thresholds, the findings (as `--format json` writes diagnostics) and each statement
    with its status and plan."""
    return {
        "thresholds": asdict(review.thresholds),
        "diagnostics": [to_json_obj(d) for d in review.findings],
        "statements": [{**s.as_dict(), "plan": s.plan} for s in review.statements],
    }
