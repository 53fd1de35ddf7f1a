"""The project's name: read from cronspec.toml, `default` without it, written by `cronspec init`,
carried into the migration and its rollback, and never derived from the checkout's path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.common import SQL_TASK

from cronspec.api import compile_specs
from cronspec.diagnostics.formats import format_text
from cronspec.scaffold import init_files

Project = Callable[..., Path]
SPECS = {"seed.yaml": SQL_TASK.format(name="seed", schedule="0 1 * * *")}


def test_default_project_and_a_named_one(project: Project) -> None:
    default = compile_specs(project(SPECS))
    assert default.plan is not None and default.plan.project == "default"
    assert "CALL pg_temp.cronspec_migrate('default', '1.4'," in default.files["pg_cron.sql"]
    named = compile_specs(project(SPECS, 'project = "billing-2"\n'))
    assert named.plan is not None and named.plan.project == "billing-2"
    sql, rollback = named.files["pg_cron.sql"], named.files["pg_cron_rollback.sql"]
    assert sql.splitlines()[1].startswith("-- pg_cron migration of project billing-2: 1 jobs")
    assert "CALL pg_temp.cronspec_migrate('billing-2', '1.4'," in sql
    assert "CALL pg_temp.cronspec_migrate('billing-2', NULL, NULL, NULL, true);" in rollback


def test_an_invalid_project_name_is_one_line(project: Project) -> None:
    compiled = compile_specs(project(SPECS, 'timezone = "UTC"\nproject = "Billing Team"\n'))
    assert format_text(compiled.diagnostics) == (
        "cronspec.toml:2:1: error[T602]: `project`: String should match pattern "
        "'^[a-z0-9][a-z0-9_-]*$'\n"
    )


def test_the_name_does_not_depend_on_the_path(tmp_path: Path) -> None:
    outputs = []
    for folder in ("a", "somewhere/else"):
        root = tmp_path / folder
        (root / "specs").mkdir(parents=True)
        (root / "specs" / "seed.yaml").write_text(SPECS["seed.yaml"])
        outputs.append(compile_specs(root).files)
    assert outputs[0] == outputs[1]


def test_init_writes_a_project_name() -> None:
    config = init_files()["cronspec.toml"]
    assert '\nproject = "my-app"\n' in config
    assert "a name of its own" in config
