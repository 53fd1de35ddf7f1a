"""Spec documents to validated `model.Task` values, with diagnostics that point into the YAML.

`task.py` checks one document (`schema.py` maps pydantic's errors back to positions,
`schedules.py` reads the schedules); `validate_all` adds what spans files (one task per name).
"""

from .task import validate, validate_all

__all__ = ["validate", "validate_all"]
