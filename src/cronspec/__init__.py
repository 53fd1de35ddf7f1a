"""cronspec: compile scheduled-task specs into a pg_cron migration and an Oban crontab."""

__version__ = "0.1.0"
