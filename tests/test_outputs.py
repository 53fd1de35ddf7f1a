"""The example's generated files as snapshots, and the behaviour they must show: the committed
generated/ is current, lists are sorted. Small focused projects are golden cases
(tests/cases/, test_cases.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.cases import CASES_DIR
from support.common import ROOT, SQL_TASK
from syrupy.assertion import SnapshotAssertion

from cronspec.api import compile_specs

Project = Callable[..., Path]


def _files(root: Path) -> dict[str, str]:
    compiled = compile_specs(root)
    assert compiled.ok, compiled.diagnostics
    return compiled.files


def test_example_outputs(snapshot: SnapshotAssertion) -> None:
    files = _files(ROOT)
    for name in sorted(files):
        assert files[name] == snapshot(name=name)


def test_committed_generated_is_current() -> None:
    files = _files(ROOT)
    on_disk = {p.name: p.read_text() for p in (ROOT / "generated").iterdir()}
    assert on_disk == files


def test_plan_lists_are_sorted_by_name(project: Project) -> None:
    root = project(
        {f"{n}.yaml": SQL_TASK.format(name=n, schedule="@daily") for n in ("zeta", "alpha", "mid")}
    )
    compiled = compile_specs(root)
    assert compiled.plan is not None
    assert [j.jobname for j in compiled.plan.jobs] == ["alpha", "mid", "zeta"]
    assert [p.name for p in compiled.plan.procedures] == ["alpha", "mid", "zeta"]


def test_fixed_offset_zone_is_moved_to_utc_for_pg_cron_14() -> None:
    compiled = compile_specs(CASES_DIR / "fixed-offset-zone-on-1.4")
    assert compiled.plan is not None
    assert [j.schedule for j in compiled.plan.jobs] == ["0 0 * * *"]
