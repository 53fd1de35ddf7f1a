"""`python -m cronspec`: the same as the `cronspec` command."""

from .cli import main_entry

main_entry()
