"""A task to SQL-eligible or app-bound, with the reasons a reviewer reads, and its executor
(`rules.py`), from what the SQL body does (`sqlcheck.py`)."""

from .rules import Classified, classify
from .sqlcheck import Analysis, analyze

__all__ = ["Analysis", "Classified", "analyze", "classify"]
