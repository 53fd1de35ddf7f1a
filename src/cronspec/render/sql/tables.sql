-- The specs' state, one row per pg_cron job, procedure, @startup call and live check.
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
-- What the jobs need from the live database, checked before anything changes: relations the
-- bodies name (in the job's search_path), not partitioned, extensions (see classify/run.py).
CREATE TEMPORARY TABLE cronspec_desired_check (
  task text NOT NULL,
  position int NOT NULL,
  spec text NOT NULL,
  kind text NOT NULL,  -- relation, not_partitioned, extension
  schema_name text,  -- NULL: unqualified, found through the job's search_path
  name text NOT NULL,
  line int NOT NULL,  -- of the task's SQL body
  about text NOT NULL,  -- the statement or function that needs it
  PRIMARY KEY (task, position)
);
