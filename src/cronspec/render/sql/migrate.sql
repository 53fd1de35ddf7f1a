-- The reconciliation: compare the specs' state (the cronspec_desired_* tables) with what this
-- project owns as this role, record every action in cronspec_action, refuse clashes, then act.
-- `cronspec plan` runs this same code in a transaction it rolls back.
CREATE OR REPLACE PROCEDURE pg_temp.cronspec_migrate(
  p_project text, p_version text, p_zones text[], p_zone text, p_rollback boolean)
LANGUAGE plpgsql AS $fn$
#variable_conflict error
DECLARE
  me name := current_user;
  me_oid oid;
  mode text := coalesce(nullif(current_setting('cronspec.mode', true), ''), 'apply');
  adopt_text text := lower(coalesce(nullif(current_setting('cronspec.adopt', true), ''), 'off'));
  v_plan boolean;
  v_adopt boolean;
  book_missing boolean;  -- the bookkeeping tables did not exist when this run began
  records int := 0;  -- rows this project and role had in the bookkeeping when this run began
  d record;
  r record;
  live record;
  live_found boolean;
  rec_jobid bigint;
  rec_project text;
  owner_project text;
  owner_role name;
  v_body text;
  same boolean;
  diff text[];
  lost text;
  clashes int;
  first_clash record;
  new_jobid bigint;
  forgotten int;
  summary text;
BEGIN
  -- One deploy at a time, before anything is read. The transaction is READ COMMITTED (the file
  -- says so at BEGIN), so each statement below sees what a deploy that held the lock committed.
  PERFORM pg_advisory_xact_lock(7165912477273711971);
  PERFORM set_config('client_min_messages', 'warning', true);
  IF mode NOT IN ('plan', 'apply') THEN
    PERFORM pg_temp.cronspec_fail(format(
      'cronspec: cronspec.mode is %L; it must be plan or apply', mode));
  END IF;
  v_plan := mode = 'plan';
  IF adopt_text IN ('on', 'true', 'yes', '1') THEN
    v_adopt := true;
  ELSIF adopt_text IN ('off', 'false', 'no', '0') THEN
    v_adopt := false;
  ELSE
    PERFORM pg_temp.cronspec_fail(format(
      'cronspec: cronspec.adopt is %L; it must be on or off', adopt_text));
  END IF;
  SELECT oid INTO me_oid FROM pg_roles WHERE rolname = me;
  CREATE TEMPORARY TABLE cronspec_action (
    seq int GENERATED ALWAYS AS IDENTITY,
    action text NOT NULL,  -- add, change, remove, adopt, unchanged, run, clash
    kind text NOT NULL,  -- job, procedure, startup, schema, bookkeeping, extension
    name text NOT NULL,
    task text NOT NULL DEFAULT '',
    spec text NOT NULL DEFAULT '',
    owned boolean NOT NULL DEFAULT false,  -- this project and role owned it before this run
    jobid bigint,
    details text[] NOT NULL DEFAULT '{}',
    hint text
  ) ON COMMIT DROP;
  CREATE INDEX ON cronspec_action (kind, name);
  CREATE INDEX ON cronspec_action (jobid);
  CREATE INDEX ON cronspec_desired_procedure (task);
  ANALYZE cronspec_desired_job, cronspec_desired_procedure, cronspec_desired_startup;
  IF v_plan THEN
    -- A plan run must never commit, even when someone runs the file with psql in plan mode.
    CREATE OR REPLACE FUNCTION pg_temp.cronspec_plan_guard() RETURNS trigger
    LANGUAGE plpgsql AS $guard$
    BEGIN
      RAISE EXCEPTION 'cronspec: this was a plan run (cronspec.mode = plan), which is never '
        'committed: nothing was changed';
    END
    $guard$;
    CREATE TEMPORARY TABLE cronspec_plan_guard (x int) ON COMMIT DROP;
    CREATE CONSTRAINT TRIGGER cronspec_plan_guard AFTER INSERT ON pg_temp.cronspec_plan_guard
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.cronspec_plan_guard();
    INSERT INTO cronspec_plan_guard VALUES (1);
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
    IF p_rollback THEN  -- no pg_cron here: nothing cronspec made to remove
      DROP TABLE cronspec_desired_job, cronspec_desired_procedure, cronspec_desired_startup,
                 cronspec_desired_check;
      RETURN;
    END IF;
    CREATE EXTENSION pg_cron;  -- works only in the database named by cron.database_name
    INSERT INTO cronspec_action (action, kind, name) VALUES ('add', 'extension', 'pg_cron');
  END IF;
  IF NOT has_schema_privilege('cron', 'USAGE') THEN
    PERFORM pg_temp.cronspec_fail(
      format('cronspec: role %s may not use schema cron, where pg_cron keeps its jobs', me),
      NULL, format('as a superuser: GRANT USAGE ON SCHEMA cron TO %I', me), '42501');
  END IF;
  IF NOT p_rollback THEN
    PERFORM pg_temp.cronspec_check_server(p_version, p_zones, p_zone);
    -- what the jobs need (relations, pg_net), before anything is read or changed
    PERFORM pg_temp.cronspec_check_live();
    -- the settings each procedure carries, as the server stores them; the server checks the
    -- spec's names and values here
    UPDATE cronspec_desired_procedure
    SET config = pg_temp.cronspec_settings_config(settings, task, spec);
  END IF;

  -- The bookkeeping: created on first use, upgraded from an earlier cronspec's.
  book_missing := to_regclass('cronspec.owned_job') IS NULL
               OR to_regclass('cronspec.owned_procedure') IS NULL;
  IF book_missing AND to_regclass('cronspec.owned_job') IS NOT NULL
     OR to_regclass('cronspec.owned_procedure') IS NOT NULL AND book_missing THEN
    PERFORM pg_temp.cronspec_fail(
      'cronspec: one of cronspec''s bookkeeping tables (cronspec.owned_job, '
      'cronspec.owned_procedure) is missing: the bookkeeping is damaged',
      NULL, 'restore it from a backup; or drop the other table too, then apply with --adopt '
            'to take over what is exactly as the specs declare');
  END IF;
  IF book_missing THEN
    IF p_rollback AND to_regclass('cronspec.managed_job') IS NULL
       AND to_regclass('cronspec.managed_procedure') IS NULL THEN
      -- nothing was ever recorded here, or it was rolled back already
      DROP TABLE cronspec_desired_job, cronspec_desired_procedure, cronspec_desired_startup,
                 cronspec_desired_check;
      RETURN;
    END IF;
    PERFORM pg_temp.cronspec_create_bookkeeping();
  ELSIF NOT has_schema_privilege('cronspec', 'USAGE') THEN
    PERFORM pg_temp.cronspec_fail(
      format('cronspec: role %s may not use schema cronspec, where cronspec keeps its '
             'bookkeeping', me),
      NULL, format('as the owner of schema cronspec: GRANT USAGE ON SCHEMA cronspec TO %I', me),
      '42501');
  END IF;
  IF to_regclass('cronspec.managed_job') IS NOT NULL
     OR to_regclass('cronspec.managed_procedure') IS NOT NULL THEN
    PERFORM pg_temp.cronspec_upgrade_bookkeeping(p_project);
  END IF;
  IF EXISTS (SELECT 1 FROM cronspec_desired_procedure WHERE skips) THEN
    IF to_regclass('cronspec.skipped_run') IS NULL THEN
      PERFORM pg_temp.cronspec_create_skip_table();
    ELSE
      PERFORM pg_temp.cronspec_upgrade_skip_table();
    END IF;
  END IF;
  SELECT (SELECT count(*) FROM cronspec.owned_job WHERE role = me AND project = p_project)
       + (SELECT count(*) FROM cronspec.owned_procedure WHERE role = me AND project = p_project)
  INTO records;
  lost := CASE
    WHEN book_missing THEN ' (there was no cronspec bookkeeping here before this run: '
                           'cronspec never ran here, or its tables were dropped)'
    WHEN records = 0 THEN format(' (cronspec''s bookkeeping records nothing of project %s as '
                                 'role %s)', p_project, me)
    ELSE '' END;

  -- Jobs: what each desired job needs, decided before anything changes.
  FOR d IN SELECT * FROM cronspec_desired_job ORDER BY jobname LOOP
    SELECT j.jobid, j.schedule, j.command, j.database, j.active INTO live
    FROM cron.job j WHERE j.username = me AND j.jobname = d.jobname;
    live_found := FOUND;
    rec_jobid := NULL;
    rec_project := NULL;
    SELECT o.jobid, o.project INTO rec_jobid, rec_project
    FROM cronspec.owned_job o WHERE o.role = me AND o.jobname = d.jobname;
    IF live_found THEN
      owner_project := NULL;
      SELECT o.project INTO owner_project FROM cronspec.owned_job o WHERE o.jobid = live.jobid;
      IF owner_project = p_project THEN
        diff := pg_temp.cronspec_job_diff(live.schedule, live.command, live.database, live.active,
                                          d.schedule, d.command, d.database, d.active);
        INSERT INTO cronspec_action (action, kind, name, task, spec, owned, jobid, details)
        VALUES (CASE WHEN diff = '{}' THEN 'unchanged' ELSE 'change' END, 'job', d.jobname,
                d.task, d.spec, true, live.jobid, diff);
        CONTINUE;
      END IF;
      IF owner_project IS NOT NULL THEN
        INSERT INTO cronspec_action (action, kind, name, task, spec, jobid, details, hint)
        VALUES ('clash', 'job', d.jobname, d.task, d.spec, live.jobid,
                ARRAY[format('pg_cron job %L (jobid %s) belongs to cronspec project %s (role %s)',
                             d.jobname, live.jobid, owner_project, me)],
                format('rename the task, or remove it from project %s first', owner_project));
        CONTINUE;
      END IF;
      -- A job cronspec does not own. It is adopted only when asked, and only when it is
      -- exactly what the spec declares; its SQL may be the body of the procedure the spec's
      -- job calls (a hand-made job running the SQL directly).
      v_body := (SELECT p.body FROM cronspec_desired_procedure p
                 WHERE p.task = d.task AND p.language = 'sql');
      same := (live.schedule = d.schedule OR live.schedule = d.written_schedule)
              AND live.database = d.database
              AND live.active = d.active
              AND (pg_temp.cronspec_canonical(live.command) = pg_temp.cronspec_canonical(d.command)
                   OR coalesce(pg_temp.cronspec_canonical(live.command)
                               = pg_temp.cronspec_canonical(v_body), false));
      IF same AND v_adopt THEN
        INSERT INTO cronspec_action (action, kind, name, task, spec, jobid, details)
        VALUES ('adopt', 'job', d.jobname, d.task, d.spec, live.jobid, array_remove(ARRAY[
          format('jobid %s kept', live.jobid),
          CASE WHEN live.schedule <> d.schedule THEN format('schedule %s -> %s', live.schedule,
                                                            d.schedule) END,
          CASE WHEN live.command <> d.command THEN format('command %s -> %s', live.command,
                                                          d.command) END,
          CASE WHEN pg_temp.cronspec_canonical(live.command)
                    IS DISTINCT FROM pg_temp.cronspec_canonical(d.command)
               THEN 'its SQL moves into the procedure the job now calls' END], NULL));
        CONTINUE;
      END IF;
      diff := pg_temp.cronspec_job_diff(live.schedule, live.command, live.database, live.active,
                                        d.schedule, d.command, d.database, d.active);
      INSERT INTO cronspec_action (action, kind, name, task, spec, jobid, details, hint)
      VALUES ('clash', 'job', d.jobname, d.task, d.spec, live.jobid,
              ARRAY[format('pg_cron job %L (jobid %s) exists, and cronspec''s bookkeeping does not '
                           'record it%s%s', d.jobname, live.jobid,
                           CASE WHEN rec_jobid IS NOT NULL AND rec_project = p_project
                                THEN format('; cronspec''s own job of that name (jobid %s) was '
                                            'unscheduled outside cronspec, and this one took '
                                            'its name', rec_jobid)
                                ELSE lost END,
                           CASE WHEN same THEN '; it is exactly what the spec declares'
                                ELSE '; it differs from the spec' END)]
              || CASE WHEN same THEN '{}'::text[] ELSE diff END,
              CASE WHEN same
                   THEN 'take it over with --adopt (cronspec plan/apply --adopt; with psql: '
                        'PGOPTIONS=''-c cronspec.adopt=on'')'
                   ELSE 'rename the task, or unschedule that job, or make it match the spec '
                        'and take it over with --adopt' END);
      CONTINUE;
    END IF;
    -- No job of that name.
    IF rec_jobid IS NOT NULL AND rec_project <> p_project THEN
      SELECT o.role INTO owner_role FROM cronspec.owned_job o WHERE o.jobid = rec_jobid;
      INSERT INTO cronspec_action (action, kind, name, task, spec, details, hint)
      VALUES ('clash', 'job', d.jobname, d.task, d.spec,
              ARRAY[format('the job name %L belongs to cronspec project %s (role %s), whose job '
                           '(jobid %s) was unscheduled outside cronspec', d.jobname, rec_project,
                           me, rec_jobid)],
              format('rename the task, or remove it from project %s first', rec_project));
      CONTINUE;
    END IF;
    INSERT INTO cronspec_action (action, kind, name, task, spec, owned, jobid, details)
    VALUES ('add', 'job', d.jobname, d.task, d.spec, rec_jobid IS NOT NULL, NULL,
            CASE WHEN rec_jobid IS NULL THEN '{}'::text[]
                 WHEN EXISTS (SELECT 1 FROM cron.job j WHERE j.jobid = rec_jobid
                                AND j.username = me)
                 THEN ARRAY[format('its job (jobid %s) was renamed outside cronspec to %L; that '
                                   'job is unscheduled', rec_jobid,
                                   (SELECT j.jobname FROM cron.job j WHERE j.jobid = rec_jobid))]
                 ELSE ARRAY[format('unscheduled outside cronspec (it was jobid %s)', rec_jobid)]
            END || ARRAY[format('schedule %s', d.schedule), format('command %s', d.command)]
                || CASE WHEN d.database <> current_database()
                        THEN ARRAY[format('database %s', d.database)] ELSE '{}' END
                || CASE WHEN NOT d.active THEN ARRAY['active false'] ELSE '{}' END);
  END LOOP;

  -- Procedures: found by schema, name and signature (no arguments).
  FOR d IN SELECT * FROM cronspec_desired_procedure ORDER BY schema_name, procedure_name LOOP
    SELECT p.oid, p.prokind, p.prosrc, p.proowner, l.lanname, p.prosecdef, p.proconfig INTO live
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_language l ON l.oid = p.prolang
    WHERE n.nspname = d.schema_name AND p.proname = d.procedure_name AND p.pronargs = 0;
    live_found := FOUND;
    owner_project := NULL;
    owner_role := NULL;
    SELECT o.project, o.role INTO owner_project, owner_role
    FROM cronspec.owned_procedure o
    WHERE o.schema_name = d.schema_name AND o.procedure_name = d.procedure_name
      AND o.signature = '';
    IF owner_project IS NOT NULL AND (owner_project <> p_project OR owner_role <> me) THEN
      INSERT INTO cronspec_action (action, kind, name, task, spec, details, hint)
      VALUES ('clash', 'procedure', format('%s.%s', d.schema_name, d.procedure_name), d.task,
              d.spec,
              ARRAY[format('procedure %I.%I() belongs to cronspec project %s (role %s)%s',
                           d.schema_name, d.procedure_name, owner_project, owner_role,
                           CASE WHEN live_found THEN ''
                                ELSE ', which dropped it outside cronspec' END)],
              format('rename the task, or use another [pg_cron] schema in cronspec.toml, or '
                     'remove the task from project %s first', owner_project));
      CONTINUE;
    END IF;
    IF live_found AND owner_project IS NOT NULL THEN  -- ours
      INSERT INTO cronspec_action (action, kind, name, task, spec, owned, details)
      -- The body is unchanged when its token fingerprint is, or when it is the spec's to the
      -- byte (a release that fingerprints otherwise does not re-create every procedure); and
      -- it must carry cronspec's setting (procedures of releases before it do not).
      SELECT CASE WHEN (o.fingerprint = d.fingerprint OR live.prosrc = d.body)
                       AND o.source_md5 = md5(live.prosrc)
                       AND live.lanname = d.language
                       AND live.proconfig IS NOT DISTINCT FROM d.config
                  THEN 'unchanged' ELSE 'change' END,
             'procedure', format('%s.%s', d.schema_name, d.procedure_name), d.task, d.spec, true,
             CASE WHEN live.lanname <> d.language
                  THEN ARRAY[format('language %s -> %s', live.lanname, d.language)]
                  WHEN o.fingerprint <> d.fingerprint AND live.prosrc <> d.body
                  THEN ARRAY['body']
                  WHEN o.source_md5 <> md5(live.prosrc) THEN ARRAY['body edited outside cronspec']
                  WHEN live.proconfig IS DISTINCT FROM d.config
                  THEN ARRAY[format('settings %s -> %s',
                                    coalesce(array_to_string(live.proconfig, ', '), 'none'),
                                    array_to_string(d.config, ', '))]
                  ELSE '{}' END
      FROM cronspec.owned_procedure o
      WHERE o.schema_name = d.schema_name AND o.procedure_name = d.procedure_name
        AND o.signature = '';
      CONTINUE;
    END IF;
    IF live_found THEN  -- a routine of that signature that cronspec does not own
      same := live.prokind = 'p' AND live.lanname = d.language AND NOT live.prosecdef
              AND (live.proconfig IS NULL OR live.proconfig = d.config)
              AND pg_temp.cronspec_canonical(live.prosrc) = pg_temp.cronspec_canonical(d.body);
      IF same AND v_adopt AND live.proowner = me_oid THEN
        INSERT INTO cronspec_action (action, kind, name, task, spec, details)
        VALUES ('adopt', 'procedure', format('%s.%s', d.schema_name, d.procedure_name), d.task,
                d.spec, CASE WHEN live.proconfig IS NULL
                             THEN ARRAY['re-created with SET standard_conforming_strings = on']
                             ELSE '{}' END);
        CONTINUE;
      END IF;
      INSERT INTO cronspec_action (action, kind, name, task, spec, details, hint)
      VALUES ('clash', 'procedure', format('%s.%s', d.schema_name, d.procedure_name), d.task,
              d.spec,
              ARRAY[format('%s %I.%I() exists, and cronspec''s bookkeeping does not record it%s',
                           CASE live.prokind WHEN 'p' THEN 'procedure' WHEN 'f' THEN 'function'
                                ELSE 'routine' END,
                           d.schema_name, d.procedure_name, lost)]
              || CASE WHEN live.prokind <> 'p' THEN ARRAY['it is not a procedure']
                      WHEN live.lanname <> d.language
                      THEN ARRAY[format('it is LANGUAGE %s, the spec''s is LANGUAGE %s',
                                        live.lanname, d.language)]
                      WHEN live.prosecdef THEN ARRAY['it is SECURITY DEFINER']
                      WHEN live.proconfig IS NOT NULL
                           AND live.proconfig <> d.config
                      THEN ARRAY[format('it sets %s', array_to_string(live.proconfig, ', '))]
                      WHEN NOT same
                      THEN ARRAY['its body differs from the spec: '
                                 || pg_temp.cronspec_first_difference(live.prosrc, d.body)]
                      WHEN live.proowner <> me_oid
                      THEN ARRAY[format('it is exactly what the spec declares, but role %s owns '
                                        'it, not %s', pg_get_userbyid(live.proowner), me)]
                      ELSE ARRAY['it is exactly what the spec declares'] END,
              CASE WHEN same AND live.proowner = me_oid
                   THEN 'take it over with --adopt (cronspec plan/apply --adopt; with psql: '
                        'PGOPTIONS=''-c cronspec.adopt=on'')'
                   WHEN same THEN format('apply as role %s, or drop that procedure',
                                         pg_get_userbyid(live.proowner))
                   ELSE 'rename the task, or drop that routine, or make it match the spec and '
                        'take it over with --adopt' END);
      CONTINUE;
    END IF;
    -- None of that signature. Another routine of that name callable without arguments (all
    -- its arguments have defaults) would make the job's CALL ambiguous.
    SELECT format('%I.%I(%s)', d.schema_name, d.procedure_name,
                  pg_get_function_identity_arguments(p.oid)) INTO v_body
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = d.schema_name AND p.proname = d.procedure_name
      AND (p.pronargdefaults = p.pronargs OR p.provariadic <> 0)
    LIMIT 1;
    IF FOUND THEN
      INSERT INTO cronspec_action (action, kind, name, task, spec, details, hint)
      VALUES ('clash', 'procedure', format('%s.%s', d.schema_name, d.procedure_name), d.task,
              d.spec,
              ARRAY[format('routine %s exists and can be called without arguments, so the job''s '
                           'CALL %I.%I() would be ambiguous', v_body, d.schema_name,
                           d.procedure_name)],
              'rename the task, or drop or rename that routine');
      CONTINUE;
    END IF;
    -- A job adopted with its SQL moving into this procedure: the procedure is part of that
    -- adoption.
    IF v_adopt AND EXISTS (
               SELECT 1 FROM cronspec_action a JOIN cronspec_desired_job j ON j.jobname = a.name
               WHERE a.kind = 'job' AND a.action = 'adopt' AND j.task = d.task
                 AND pg_temp.cronspec_canonical((SELECT c.command FROM cron.job c
                                                 WHERE c.jobid = a.jobid))
                     = pg_temp.cronspec_canonical(d.body)) THEN
      INSERT INTO cronspec_action (action, kind, name, task, spec, details)
      VALUES ('adopt', 'procedure', format('%s.%s', d.schema_name, d.procedure_name), d.task,
              d.spec, ARRAY['created from the command of the adopted job']);
      CONTINUE;
    END IF;
    INSERT INTO cronspec_action (action, kind, name, task, spec, owned, details)
    VALUES ('add', 'procedure', format('%s.%s', d.schema_name, d.procedure_name), d.task, d.spec,
            EXISTS (SELECT 1 FROM cronspec.owned_procedure o
                    WHERE o.schema_name = d.schema_name AND o.procedure_name = d.procedure_name
                      AND o.signature = ''),
            CASE WHEN EXISTS (SELECT 1 FROM cronspec.owned_procedure o
                              WHERE o.schema_name = d.schema_name
                                AND o.procedure_name = d.procedure_name AND o.signature = '')
                 THEN ARRAY['dropped outside cronspec'] ELSE '{}' END);
  END LOOP;

  -- What this project made as this role and the specs no longer name.
  INSERT INTO cronspec_action (action, kind, name, task, owned, jobid, details)
  SELECT 'remove', 'job', o.jobname, o.task, true, o.jobid,
         CASE WHEN j.jobid IS NULL THEN ARRAY['already unscheduled outside cronspec']
              ELSE ARRAY[format('schedule %s', j.schedule)] END
  FROM cronspec.owned_job o LEFT JOIN cron.job j ON j.jobid = o.jobid AND j.username = me
  WHERE o.role = me AND o.project = p_project
    AND NOT EXISTS (SELECT 1 FROM cronspec_desired_job w WHERE w.jobname = o.jobname)
    AND NOT EXISTS (SELECT 1 FROM cronspec_action a WHERE a.kind = 'job' AND a.jobid = o.jobid)
  ORDER BY o.jobname;
  INSERT INTO cronspec_action (action, kind, name, task, owned, details)
  SELECT 'remove', 'procedure', format('%s.%s', o.schema_name, o.procedure_name), o.task, true,
         CASE WHEN to_regprocedure(format('%I.%I(%s)', o.schema_name, o.procedure_name,
                                          o.signature)) IS NULL
              THEN ARRAY['already dropped outside cronspec'] ELSE '{}' END
  FROM cronspec.owned_procedure o
  WHERE o.role = me AND o.project = p_project
    AND NOT EXISTS (SELECT 1 FROM cronspec_desired_procedure w
                    WHERE w.schema_name = o.schema_name AND w.procedure_name = o.procedure_name
                      AND o.signature = '')
  ORDER BY o.schema_name, o.procedure_name, o.signature;
  INSERT INTO cronspec_action (action, kind, name, task, spec)
  SELECT 'run', 'startup', s.task, s.task, s.spec FROM cronspec_desired_startup s
  ORDER BY s.position;

  -- Refuse every clash at once, before anything changes. A plan run lists them instead.
  SELECT count(*) INTO clashes FROM cronspec_action WHERE action = 'clash';
  IF clashes > 0 AND NOT v_plan THEN
    SELECT * INTO first_clash FROM cronspec_action WHERE action = 'clash' ORDER BY seq LIMIT 1;
    PERFORM pg_temp.cronspec_fail(
      format('cronspec: task %s (%s): %s', first_clash.task, first_clash.spec,
             array_to_string(first_clash.details, '; ')),
      CASE WHEN clashes > 1 THEN
        format('%s more clashes: %s', clashes - 1,
               (SELECT string_agg(format('task %s: %s', a.task, a.details[1]), '; ' ORDER BY a.seq)
                FROM cronspec_action a WHERE a.action = 'clash' AND a.seq > first_clash.seq))
      END,
      first_clash.hint);
  END IF;

  -- Act. Removals first, so a name freed here can be taken below.
  FOR r IN SELECT * FROM cronspec_action WHERE action = 'remove' ORDER BY seq LOOP
    IF r.kind = 'job' THEN
      IF EXISTS (SELECT 1 FROM cron.job j WHERE j.jobid = r.jobid AND j.username = me) THEN
        PERFORM cron.unschedule(r.jobid);
      END IF;
      DELETE FROM cronspec.owned_job WHERE jobid = r.jobid AND role = me;
    ELSE
      FOR d IN SELECT * FROM cronspec.owned_procedure o
               WHERE format('%s.%s', o.schema_name, o.procedure_name) = r.name
                 AND o.role = me AND o.project = p_project LOOP
        EXECUTE format('DROP PROCEDURE IF EXISTS %I.%I(%s)', d.schema_name, d.procedure_name,
                       d.signature);
        DELETE FROM cronspec.owned_procedure
        WHERE schema_name = d.schema_name AND procedure_name = d.procedure_name
          AND signature = d.signature;
      END LOOP;
    END IF;
  END LOOP;

  -- Procedures: the schemas they need, then create or replace what changed; a body left as
  -- it is is still checked.
  FOR r IN
    SELECT DISTINCT w.schema_name FROM cronspec_desired_procedure w
    JOIN cronspec_action a ON a.kind = 'procedure'
      AND a.name = format('%s.%s', w.schema_name, w.procedure_name)
    WHERE a.action IN ('add', 'change')  -- what writes a procedure
       OR a.action = 'adopt'
          AND pg_temp.cronspec_must_write(w.schema_name, w.procedure_name, w.config)
    ORDER BY 1
  LOOP
    IF to_regnamespace(r.schema_name) IS NULL THEN
      IF NOT has_database_privilege(current_database(), 'CREATE') THEN
        PERFORM pg_temp.cronspec_fail(
          format('cronspec: role %s may not create schema %s for the procedures', me,
                 r.schema_name),
          NULL,
          format('as a superuser: CREATE SCHEMA %I AUTHORIZATION %I, or GRANT CREATE ON '
                 'DATABASE %I TO %I', r.schema_name, me, current_database(), me),
          '42501');
      END IF;
      EXECUTE format('CREATE SCHEMA %I', r.schema_name);
      INSERT INTO cronspec_action (action, kind, name) VALUES ('add', 'schema', r.schema_name);
    ELSIF NOT has_schema_privilege(r.schema_name, 'CREATE') THEN
      PERFORM pg_temp.cronspec_fail(
        format('cronspec: role %s may not create procedures in schema %s', me, r.schema_name),
        NULL,
        format('as the owner of schema %s: GRANT CREATE ON SCHEMA %I TO %I; or set another '
               '[pg_cron] schema in cronspec.toml', r.schema_name, r.schema_name, me),
        '42501');
    END IF;
  END LOOP;
  -- The bodies left as they are, checked all at once (one parse instead of one per body);
  -- only when that fails, one by one, to name the task.
  SELECT string_agg(p.body, E'\n;\n' ORDER BY p.schema_name, p.procedure_name) INTO v_body
  FROM cronspec_desired_procedure p
  JOIN cronspec_action a ON a.kind = 'procedure'
    AND a.name = format('%s.%s', p.schema_name, p.procedure_name)
  WHERE p.language = 'sql'  -- a wrapper's plpgsql names nothing PostgreSQL checks at creation
    AND (a.action = 'unchanged'
         OR a.action = 'adopt'
            AND NOT pg_temp.cronspec_must_write(p.schema_name, p.procedure_name, p.config));
  IF v_body IS NOT NULL THEN
    BEGIN
      PERFORM pg_temp.cronspec_check_body(v_body, '', '');
    EXCEPTION WHEN OTHERS THEN
      FOR d IN
        SELECT p.* FROM cronspec_desired_procedure p
        JOIN cronspec_action a ON a.kind = 'procedure'
          AND a.name = format('%s.%s', p.schema_name, p.procedure_name)
        WHERE a.action IN ('unchanged', 'adopt') AND p.language = 'sql'
        ORDER BY p.schema_name, p.procedure_name
      LOOP
        PERFORM pg_temp.cronspec_check_body(d.body, d.task, d.spec);
      END LOOP;
      RAISE;
    END;
  END IF;
  FOR d IN
    SELECT p.*, a.action FROM cronspec_desired_procedure p
    JOIN cronspec_action a ON a.kind = 'procedure'
      AND a.name = format('%s.%s', p.schema_name, p.procedure_name)
    WHERE a.action <> 'clash' ORDER BY p.schema_name, p.procedure_name
  LOOP
    IF d.action IN ('add', 'change')
       OR d.action = 'adopt'
          AND pg_temp.cronspec_must_write(d.schema_name, d.procedure_name, d.config) THEN
      PERFORM pg_temp.cronspec_write_procedure(d.schema_name, d.procedure_name, d.body, d.task,
                                               d.spec, d.language, d.settings);
    END IF;
    IF d.action = 'unchanged' THEN  -- the same body, fingerprinted by an earlier release
      UPDATE cronspec.owned_procedure SET fingerprint = d.fingerprint
      WHERE schema_name = d.schema_name AND procedure_name = d.procedure_name
        AND signature = '' AND fingerprint <> d.fingerprint;
    ELSE
      INSERT INTO cronspec.owned_procedure AS o
        (schema_name, procedure_name, signature, role, project, task, fingerprint, source_md5)
      SELECT d.schema_name, d.procedure_name, '', me, p_project, d.task, d.fingerprint,
             md5(p.prosrc)
      FROM pg_proc p WHERE p.oid = format('%I.%I()', d.schema_name, d.procedure_name)::regprocedure
      ON CONFLICT (schema_name, procedure_name, signature) DO UPDATE
        SET task = excluded.task, fingerprint = excluded.fingerprint,
            source_md5 = excluded.source_md5;
    END IF;
  END LOOP;

  -- Jobs. pg_cron's upsert by name keeps a job's jobid and `active`, but also its database:
  -- a job that must move to another database is unscheduled first.
  FOR d IN
    SELECT j.*, a.action, a.jobid AS live_jobid FROM cronspec_desired_job j
    JOIN cronspec_action a ON a.kind = 'job' AND a.name = j.jobname
    WHERE a.action IN ('add', 'change', 'adopt') ORDER BY j.jobname
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d.database) THEN
      PERFORM pg_temp.cronspec_fail(format(
        'cronspec: task %s (%s): database %I does not exist', d.task, d.spec, d.database));
    END IF;
    SELECT j.jobid, j.schedule, j.command, j.database, j.active INTO live
    FROM cron.job j WHERE j.username = me AND j.jobname = d.jobname;
    live_found := FOUND;
    IF live_found AND live.database <> d.database THEN
      PERFORM cron.unschedule(live.jobid);
      live_found := false;
    END IF;
    IF d.action = 'add' THEN  -- a job of ours renamed by hand goes; the name is scheduled again
      PERFORM cron.unschedule(j.jobid)
      FROM cron.job j JOIN cronspec.owned_job o ON o.jobid = j.jobid
      WHERE o.role = me AND o.jobname = d.jobname AND j.username = me;
    END IF;
    IF NOT live_found OR live.schedule <> d.schedule OR live.command <> d.command THEN
      new_jobid := pg_temp.cronspec_schedule(d.jobname, d.schedule, d.command, d.database,
                                             d.task, d.spec);
    ELSE
      new_jobid := live.jobid;
    END IF;
    IF (SELECT j.active FROM cron.job j WHERE j.jobid = new_jobid) <> d.active THEN
      PERFORM pg_temp.cronspec_set_active(new_jobid, d.active, d.task, d.spec);
    END IF;
    UPDATE cronspec_action SET jobid = new_jobid
    WHERE kind = 'job' AND name = d.jobname AND jobid IS DISTINCT FROM new_jobid;
    DELETE FROM cronspec.owned_job WHERE role = me AND jobname = d.jobname AND jobid <> new_jobid;
    INSERT INTO cronspec.owned_job AS o (jobid, role, jobname, project, task)
    VALUES (new_jobid, me, d.jobname, p_project, d.task)
    ON CONFLICT (jobid) DO UPDATE SET jobname = excluded.jobname, task = excluded.task
    WHERE (o.jobname, o.task) IS DISTINCT FROM (excluded.jobname, excluded.task);
  END LOOP;

  -- @startup tasks, in the order of the specs: not in a plan run, which lists them only.
  IF NOT v_plan THEN
    FOR d IN SELECT * FROM cronspec_desired_startup ORDER BY position LOOP
      PERFORM pg_temp.cronspec_startup(d.command, d.task, d.spec);
    END LOOP;
  END IF;

  IF p_rollback THEN  -- nothing left recorded by anyone: the bookkeeping goes too
    IF to_regclass('cronspec.skipped_run') IS NOT NULL THEN  -- this project's skips, as this role
      DELETE FROM cronspec.skipped_run WHERE project = p_project AND role = me;
      GET DIAGNOSTICS forgotten = ROW_COUNT;
      IF forgotten > 0 THEN
        INSERT INTO cronspec_action (action, kind, name, details)
        VALUES ('change', 'bookkeeping', 'cronspec.skipped_run',
                ARRAY[format('%s skipped runs of project %s forgotten', forgotten, p_project)]);
      END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM cronspec.owned_job)
       AND NOT EXISTS (SELECT 1 FROM cronspec.owned_procedure)
       AND pg_has_role((SELECT relowner FROM pg_class
                        WHERE oid = 'cronspec.owned_job'::regclass), 'MEMBER')
       AND pg_has_role((SELECT relowner FROM pg_class
                        WHERE oid = 'cronspec.owned_procedure'::regclass), 'MEMBER')
       AND coalesce(pg_has_role((SELECT relowner FROM pg_class
                                 WHERE oid = to_regclass('cronspec.skipped_run')), 'MEMBER'),
                    true) THEN
      IF to_regclass('cronspec.skipped_run') IS NOT NULL THEN
        DROP TABLE cronspec.skipped_run;
        INSERT INTO cronspec_action (action, kind, name)
        VALUES ('remove', 'bookkeeping', 'cronspec.skipped_run');
      END IF;
      DROP TABLE cronspec.owned_job, cronspec.owned_procedure;
      INSERT INTO cronspec_action (action, kind, name)
      VALUES ('remove', 'bookkeeping', 'cronspec.owned_job, cronspec.owned_procedure');
    END IF;
  END IF;
  DROP TABLE cronspec_desired_job, cronspec_desired_procedure, cronspec_desired_startup,
             cronspec_desired_check;

  -- What psql users see: a short summary as NOTICE lines.
  PERFORM set_config('client_min_messages', 'notice', true);
  SELECT string_agg(format('%s %s', n, a), ', ' ORDER BY min_seq) INTO summary
  FROM (SELECT action AS a, count(*) AS n, min(seq) AS min_seq FROM cronspec_action
        GROUP BY action) c;
  RAISE NOTICE 'cronspec %: project %, role %: %', CASE WHEN v_plan THEN 'plan (rolled back)'
    WHEN p_rollback THEN 'rollback' ELSE 'apply' END, p_project, me,
    coalesce(summary, 'nothing to do');
  FOR r IN SELECT * FROM cronspec_action WHERE action <> 'unchanged' ORDER BY seq LOOP
    RAISE NOTICE '%', format('cronspec: %s %s %s%s', r.action, r.kind, r.name,
      CASE WHEN r.details = '{}' THEN '' ELSE ': ' || array_to_string(r.details, '; ') END);
  END LOOP;
END
$fn$;
