-- The specs' state, one row per pg_cron job, procedure and @startup call.
CREATE TEMPORARY TABLE cronspec_desired_job (
  jobname text PRIMARY KEY,
  schedule text NOT NULL,
  command text NOT NULL,
  active boolean NOT NULL,
  task text NOT NULL,
  spec text NOT NULL,
  database text NOT NULL DEFAULT current_database(),
  -- the schedule as the spec writes it, where pg_cron reads that text the same (adoption)
  written_schedule text
);
CREATE TEMPORARY TABLE cronspec_desired_procedure (
  schema_name name NOT NULL,
  procedure_name name NOT NULL,
  body text NOT NULL,
  fingerprint text NOT NULL,
  task text NOT NULL,
  spec text NOT NULL,
  PRIMARY KEY (schema_name, procedure_name)
);
CREATE TEMPORARY TABLE cronspec_desired_startup (
  position int PRIMARY KEY,
  command text NOT NULL,
  task text NOT NULL,
  spec text NOT NULL
);
