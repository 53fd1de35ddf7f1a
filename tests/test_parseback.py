"""The shapes shipped as already proven (render/proven_shapes.json) are proven here, by sqlglot,
on every test run: a compile that finds its shapes there skips sqlglot and loses nothing.

To refresh the list after changing what the migration emits (the example's shapes must be in
it; others only save time), run with the project roots to collect from:

    CRONSPEC_UPDATE_SHAPES=.:bench/work/repo-1000 .venv/bin/pytest -q tests/test_parseback.py
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

import postgast

from cronspec import api
from cronspec.render import parseback
from cronspec.render.pg_cron import migration_parts, rollback_parts

REPO = Path(__file__).resolve().parent.parent


def _shapes(root: Path) -> set[str]:
    compiled = api.compile_specs(root)
    assert compiled.plan is not None, compiled.diagnostics
    parts = [*migration_parts(compiled.plan), *rollback_parts(compiled.plan)]
    return {postgast.normalize(part) for part in parts}


def test_every_proven_shape_passes_sqlglot() -> None:
    shapes = parseback.proven()
    assert shapes
    for shape in shapes:
        assert parseback.sqlglot_problems(shape) == (), shape


def test_the_examples_shapes_are_proven() -> None:
    found = _shapes(REPO)
    update = os.environ.get("CRONSPEC_UPDATE_SHAPES")
    if update:
        for root in update.split(":"):
            found |= _shapes(REPO / root)
        for shape in found:  # only shapes sqlglot passes today are written
            assert parseback.sqlglot_problems(shape) == (), shape
        path = Path(parseback.__file__).parent / parseback.PROVEN
        data = {"proven by": f"sqlglot {version('sqlglot')}", "shapes": sorted(found)}
        path.write_text(json.dumps(data, indent=0) + "\n", encoding="utf-8")
        parseback.proven.cache_clear()
    assert found <= parseback.proven()


def test_a_shape_not_proven_goes_to_sqlglot() -> None:
    shape = "SELECT $1 AS not_a_shape_cronspec_emits;"
    assert shape not in parseback.proven()
    assert parseback.shape_problems(shape) == ()
    (problem,) = parseback.shape_problems("ALTER SYSTEM SET work_mem = $1;")
    assert problem.startswith("unparsed statement: ALTER SYSTEM")
