-- cronspec's bookkeeping: which pg_cron jobs (by jobid) and procedures (by schema, name and
-- signature) each project made, as which role. Every role that applies a migration writes
-- these tables; row-level security lets each role write only rows of its own objects, and
-- everyone read every row, so a clash can name the object's owner.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_create_bookkeeping() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  me name := current_user;
BEGIN
  IF to_regnamespace('cronspec') IS NULL THEN
    -- CREATE SCHEMA IF NOT EXISTS would demand CREATE on the database even when it exists
    IF NOT has_database_privilege(current_database(), 'CREATE') THEN
      PERFORM pg_temp.cronspec_fail(
        format('cronspec: role %s may not create schema cronspec, where cronspec keeps its '
               'bookkeeping', me),
        NULL,
        format('as a superuser: CREATE SCHEMA cronspec AUTHORIZATION %I, or GRANT CREATE ON '
               'DATABASE %I TO %I', me, current_database(), me),
        '42501');
    END IF;
    CREATE SCHEMA cronspec;
    GRANT USAGE ON SCHEMA cronspec TO PUBLIC;
    INSERT INTO cronspec_action (action, kind, name) VALUES ('add', 'schema', 'cronspec');
  END IF;
  IF NOT has_schema_privilege('cronspec', 'CREATE') THEN
    PERFORM pg_temp.cronspec_fail(
      format('cronspec: role %s may not create cronspec''s bookkeeping tables in schema '
             'cronspec', me),
      NULL, format('as the owner of schema cronspec: GRANT CREATE ON SCHEMA cronspec TO %I', me),
      '42501');
  END IF;
  CREATE TABLE cronspec.owned_job (
    jobid bigint PRIMARY KEY,
    role name NOT NULL,
    jobname text NOT NULL,
    project text NOT NULL,
    task text NOT NULL,
    UNIQUE (role, jobname)
  );
  CREATE TABLE cronspec.owned_procedure (
    schema_name name NOT NULL,
    procedure_name name NOT NULL,
    signature text NOT NULL,  -- pg_get_function_identity_arguments: '' for ()
    role name NOT NULL,
    project text NOT NULL,
    task text NOT NULL,
    fingerprint text NOT NULL,  -- of the spec's body, by tokens: whitespace and comments aside
    source_md5 text NOT NULL,  -- of the body as written, to see edits made by hand
    PRIMARY KEY (schema_name, procedure_name, signature)
  );
  COMMENT ON TABLE cronspec.owned_job IS
    'pg_cron jobs cronspec made: each belongs to one cronspec project and the role that owns it';
  COMMENT ON TABLE cronspec.owned_procedure IS
    'procedures cronspec made: each belongs to one cronspec project and the role that owns it';
  ALTER TABLE cronspec.owned_job ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
  ALTER TABLE cronspec.owned_procedure ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
  CREATE POLICY cronspec_read ON cronspec.owned_job FOR SELECT USING (true);
  CREATE POLICY cronspec_read ON cronspec.owned_procedure FOR SELECT USING (true);
  -- cron.job shows a role only its own jobs: a role can record only a job it scheduled.
  CREATE POLICY cronspec_write ON cronspec.owned_job USING (role = current_user)
    WITH CHECK (role = current_user AND jobid IN (
      SELECT j.jobid FROM cron.job j WHERE j.username = current_user));
  CREATE POLICY cronspec_write ON cronspec.owned_procedure USING (role = current_user)
    WITH CHECK (role = current_user AND EXISTS (
      SELECT 1 FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = owned_procedure.schema_name
        AND p.proname = owned_procedure.procedure_name
        AND pg_catalog.pg_get_function_identity_arguments(p.oid) = owned_procedure.signature
        AND p.proowner = (SELECT r.oid FROM pg_catalog.pg_roles r
                          WHERE r.rolname = current_user)));
  GRANT SELECT, INSERT, UPDATE, DELETE ON cronspec.owned_job, cronspec.owned_procedure TO PUBLIC;
  INSERT INTO cronspec_action (action, kind, name, details) VALUES (
    'add', 'bookkeeping', 'cronspec.owned_job, cronspec.owned_procedure',
    ARRAY['the tables that record what each cronspec project owns']);
END
$fn$;
-- Where `overlap: skip` records the runs it skips (a skip is a run pg_cron says succeeded, so
-- `cronspec status` reads them here): created when a task first has that policy. Anyone reads
-- every row; a role records only its own skips, of a task cronspec's bookkeeping records, and
-- forgets only its own.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_create_skip_table() RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT has_schema_privilege('cronspec', 'CREATE') THEN
    PERFORM pg_temp.cronspec_fail(
      format('cronspec: role %s may not create cronspec.skipped_run, where `overlap: skip` '
             'records the runs it skips', current_user),
      NULL, format('as the owner of schema cronspec: GRANT CREATE ON SCHEMA cronspec TO %I',
                   current_user),
      '42501');
  END IF;
  CREATE TABLE cronspec.skipped_run (
    project text NOT NULL,
    task text NOT NULL,
    skipped_at timestamptz NOT NULL DEFAULT now(),  -- when the skipped run started
    role name NOT NULL DEFAULT current_user,  -- the role of the run that was skipped
    pid integer DEFAULT pg_backend_pid()  -- its backend: cron.job_run_details.job_pid
  );
  CREATE INDEX ON cronspec.skipped_run (project, task, skipped_at);
  COMMENT ON TABLE cronspec.skipped_run IS
    'runs of cronspec tasks with overlap: skip that found another run of the task under way';
  ALTER TABLE cronspec.skipped_run ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
  CREATE POLICY cronspec_read ON cronspec.skipped_run FOR SELECT USING (true);
  CREATE POLICY cronspec_record ON cronspec.skipped_run FOR INSERT
    WITH CHECK (role = current_user AND EXISTS (
      SELECT 1 FROM cronspec.owned_procedure o
      WHERE o.project = skipped_run.project AND o.task = skipped_run.task));
  CREATE POLICY cronspec_forget ON cronspec.skipped_run FOR DELETE USING (role = current_user);
  GRANT SELECT, INSERT, DELETE ON cronspec.skipped_run TO PUBLIC;
  INSERT INTO cronspec_action (action, kind, name, details) VALUES (
    'add', 'bookkeeping', 'cronspec.skipped_run',
    ARRAY['where overlap: skip records the runs it skips, for cronspec status']);
END
$fn$;
-- cronspec.skipped_run as this round's earlier build created it, without `pid`: the column is
-- added where this role owns the table (rows before it stay NULL: not told apart by job).
CREATE OR REPLACE FUNCTION pg_temp.cronspec_upgrade_skip_table() RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'cronspec.skipped_run'::regclass
                 AND attname = 'pid' AND NOT attisdropped)
     AND pg_has_role((SELECT relowner FROM pg_class
                      WHERE oid = 'cronspec.skipped_run'::regclass), 'MEMBER') THEN
    ALTER TABLE cronspec.skipped_run ADD COLUMN IF NOT EXISTS pid integer;
    ALTER TABLE cronspec.skipped_run ALTER COLUMN pid SET DEFAULT pg_backend_pid();
    INSERT INTO cronspec_action (action, kind, name, details) VALUES (
      'change', 'bookkeeping', 'cronspec.skipped_run',
      ARRAY['column pid added: cronspec status tells which job''s run each skip was']);
  END IF;
END
$fn$;
-- The bookkeeping of cronspec before projects (cronspec.managed_job by role and job name,
-- cronspec.managed_procedure by schema and name) moves to the tables above. A role's rows go
-- to the first project that applies as that role, which before projects existed was the one
-- project that role's migrations ran (two projects as one role removed each other's objects).
-- Rows of other roles stay until those roles apply.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_upgrade_bookkeeping(p_project text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  me name := current_user;
  me_oid oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
  old_jobs regclass := to_regclass('cronspec.managed_job');
  old_procs regclass := to_regclass('cronspec.managed_procedure');
  jobs int := 0;
  procs int := 0;
  gone int := 0;
  v_n int;
  details text[];
  r record;
BEGIN
  IF (old_jobs IS NOT NULL AND NOT has_table_privilege(old_jobs, 'SELECT, DELETE'))
     OR (old_procs IS NOT NULL AND NOT has_table_privilege(old_procs, 'SELECT, DELETE')) THEN
    PERFORM pg_temp.cronspec_fail(
      format('cronspec: role %s may not upgrade the bookkeeping of an earlier cronspec '
             '(cronspec.managed_job, cronspec.managed_procedure)', me),
      NULL, format('apply once as their owner (%s) or a superuser, or GRANT SELECT, DELETE ON '
                   'them TO %I',
                   (SELECT pg_get_userbyid(relowner) FROM pg_class
                    WHERE oid = coalesce(old_jobs, old_procs)), me),
      '42501');
  END IF;
  IF old_jobs IS NOT NULL THEN
    FOR r IN
      SELECT m.jobname, m.task, j.jobid FROM cronspec.managed_job m
      JOIN cron.job j ON j.username = m.username AND j.jobname = m.jobname
      WHERE m.username = me ORDER BY m.jobname
    LOOP
      INSERT INTO cronspec.owned_job (jobid, role, jobname, project, task)
      VALUES (r.jobid, me, r.jobname, p_project, r.task) ON CONFLICT DO NOTHING;
      jobs := jobs + 1;
    END LOOP;
    -- a row whose job is gone records nothing left to own: the specs' job is scheduled again
    DELETE FROM cronspec.managed_job WHERE username = me;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    gone := gone + v_n - jobs;
  END IF;
  IF old_procs IS NOT NULL THEN
    FOR r IN
      SELECT m.schema_name, m.procedure_name, m.task, m.fingerprint, m.source_md5, p.proowner
      FROM cronspec.managed_procedure m
      LEFT JOIN pg_namespace n ON n.nspname = m.schema_name
      LEFT JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = m.procedure_name
        AND p.prokind = 'p' AND p.pronargs = 0
      WHERE p.oid IS NULL OR p.proowner = me_oid  -- another role's rows wait for that role
      ORDER BY m.schema_name, m.procedure_name
    LOOP
      IF r.proowner IS NULL THEN
        gone := gone + 1;
      ELSE
        INSERT INTO cronspec.owned_procedure
          (schema_name, procedure_name, signature, role, project, task, fingerprint, source_md5)
        VALUES (r.schema_name, r.procedure_name, '', me, p_project, r.task, r.fingerprint,
                r.source_md5)
        ON CONFLICT DO NOTHING;
        procs := procs + 1;
      END IF;
      DELETE FROM cronspec.managed_procedure
      WHERE schema_name = r.schema_name AND procedure_name = r.procedure_name;
    END LOOP;
  END IF;
  details := ARRAY[format('%s jobs and %s procedures of role %s, recorded by an earlier cronspec, '
                          'now belong to project %s', jobs, procs, me, p_project)];
  IF gone > 0 THEN
    details := details || format('%s rows named objects that no longer exist', gone);
  END IF;
  IF (old_jobs IS NULL OR NOT EXISTS (SELECT 1 FROM cronspec.managed_job))
     AND (old_procs IS NULL OR NOT EXISTS (SELECT 1 FROM cronspec.managed_procedure))
     AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = coalesce(old_jobs, old_procs)),
                     'MEMBER')
     AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = coalesce(old_procs, old_jobs)),
                     'MEMBER') THEN
    DROP TABLE IF EXISTS cronspec.managed_job, cronspec.managed_procedure;
    details := details || 'cronspec.managed_job and cronspec.managed_procedure dropped'::text;
  ELSIF jobs + procs + gone = 0 THEN
    RETURN;  -- only other roles' rows are left: nothing to do as this role
  END IF;
  INSERT INTO cronspec_action (action, kind, name, details)
  VALUES ('change', 'bookkeeping', 'cronspec.managed_job, cronspec.managed_procedure', details);
END
$fn$;
