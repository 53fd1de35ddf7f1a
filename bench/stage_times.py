"""CPU time of each stage of `cronspec compile --check`, in one process (issue 11 profiling).

    .venv/bin/python bench/stage_times.py bench/work/repo-1000 [--runs 3]

Runs the stages of api.compile_specs and api.render_files one by one and times each with
`time.process_time()`; "imports" is the import of cronspec.api (first run only: later runs are
in the same process, so their other stages are warm only in the memo caches, which
bench/compile_bench.py's fresh processes never see; use --runs 1 for those figures). The tree
must be up to date (`cronspec compile` first): the last stage compares with generated/.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_start = time.process_time()
import cronspec.api.compile as api  # noqa: E402
from cronspec import output  # noqa: E402

IMPORTS = time.process_time() - _start


def _run(root: Path) -> dict[str, float]:
    times: dict[str, float] = {}

    def stage(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        start = time.process_time()
        result = fn(*args)
        times[name] = times.get(name, 0.0) + time.process_time() - start
        return result

    settings, _ = stage("config", api.load_config, root)
    docs = stage("read + compose YAML", lambda: list(api.read_documents(root, settings)))
    tasks, _ = stage("validate", api.validate_all, docs, settings.timezone)
    classified = stage("classify", lambda: [c for t in tasks if (c := api.classify(t)[0])])
    placements, _ = stage("place", api.place, classified, settings)
    plan, _ = stage("build_plan", api.build_plan, placements, settings)
    week, _ = stage("week_view", api.week_view, placements, settings)
    views = stage("report_views", api.report_views, placements, settings)
    sql = stage(
        "migration_parts",
        lambda: {
            "pg_cron.sql": list(api.migration_parts(plan)),
            "pg_cron_rollback.sql": list(api.rollback_parts(plan)),
        },
    )
    for parts in sql.values():
        if stage("parse-back", api.parseback.problems, parts):
            raise SystemExit("parse-back failed")
    files = {name: "".join(parts) for name, parts in sql.items()}
    files["pg_cron.exs"] = stage("render_ecto", api.render_ecto, plan)
    files["oban_crontab.exs"] = stage("render_crontab", api.render_crontab, plan)
    chart = stage("render_week", lambda: api.render_week(week) if week else ())
    files["REPORT.md"] = stage("render_report", api.render_report, plan, views, chart)
    found = stage("compare", output.compare, root / settings.output, files, settings.output)
    if found.stale:
        raise SystemExit(f"generated/ is not up to date: {found}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for run in range(args.runs):
        times = _run(args.root)
        total = sum(times.values()) + (IMPORTS if run == 0 else 0.0)
        print(f"run {run + 1}: total {total:.3f} s CPU")
        if run == 0:
            print(f"  {'imports':22s} {IMPORTS:.3f}  {100 * IMPORTS / total:3.0f}%")
        for name, spent in times.items():
            print(f"  {name:22s} {spent:.3f}  {100 * spent / total:3.0f}%")


if __name__ == "__main__":
    main()
