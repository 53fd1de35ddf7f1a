"""`cronspec import`: existing pg_cron jobs and Oban crontab entries to specs.

`pg_cron.py` and `oban.py` convert what was read (rows of `cron.job`, read by db/; crontab
entries, read by real Elixir in `elixir.py`) into spec texts, pure functions checked by the
compiler's own stages (`specs.py`); api/ writes them with output/'s atomic writer.
"""

from .crontab import ObanCrontab
from .oban import from_oban
from .pg_cron import CronJob, PgCronServer, from_pg_cron
from .specs import Conversion, Listed, Written

__all__ = [
    "Conversion",
    "CronJob",
    "Listed",
    "ObanCrontab",
    "PgCronServer",
    "Written",
    "from_oban",
    "from_pg_cron",
]
