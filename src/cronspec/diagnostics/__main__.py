"""`python -m cronspec.diagnostics > docs/errors.md`: the page of codes, from the registry."""

from .codes import errors_markdown

print(errors_markdown(), end="")
