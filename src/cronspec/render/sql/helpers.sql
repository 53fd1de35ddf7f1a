-- Helpers of the migration, in pg_temp: they vanish with the session.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_fail(
  message text, detail text DEFAULT NULL, hint text DEFAULT NULL, code text DEFAULT 'P0001')
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF detail IS NULL AND hint IS NULL THEN
    RAISE EXCEPTION USING MESSAGE = message, ERRCODE = code;
  ELSIF hint IS NULL THEN
    RAISE EXCEPTION USING MESSAGE = message, DETAIL = detail, ERRCODE = code;
  ELSIF detail IS NULL THEN
    RAISE EXCEPTION USING MESSAGE = message, HINT = hint, ERRCODE = code;
  ELSE
    RAISE EXCEPTION USING MESSAGE = message, DETAIL = detail, HINT = hint, ERRCODE = code;
  END IF;
END
$fn$;
-- SQL text as adoption compares it: without surrounding whitespace and trailing semicolons.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_canonical(sql text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT rtrim(btrim(sql, E' \t\r\n'), E' \t\r\n;')
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_first_difference(live text, wanted text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  a text[] := string_to_array(pg_temp.cronspec_canonical(live), E'\n');
  b text[] := string_to_array(pg_temp.cronspec_canonical(wanted), E'\n');
BEGIN
  FOR i IN 1 .. greatest(cardinality(a), cardinality(b)) LOOP
    IF a[i] IS DISTINCT FROM b[i] THEN
      RETURN format('line %s is %s, the spec''s is %s', i,
                    coalesce(quote_literal(a[i]), 'missing'), coalesce(quote_literal(b[i]), 'missing'));
    END IF;
  END LOOP;
  RETURN 'they differ';
END
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_job_diff(
  live_schedule text, live_command text, live_database text, live_active boolean,
  schedule text, command text, database text, active boolean)
RETURNS text[] LANGUAGE sql IMMUTABLE AS $fn$
  SELECT array_remove(ARRAY[
    CASE WHEN live_schedule <> schedule THEN format('schedule %s -> %s', live_schedule, schedule) END,
    CASE WHEN live_command <> command THEN format('command %s -> %s', live_command, command) END,
    CASE WHEN live_database <> database
         THEN format('database %s -> %s', live_database, database) END,
    CASE WHEN live_active <> active THEN format('active %s -> %s', live_active, active) END
  ], NULL)
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_check_server(
  p_version text, p_zones text[], p_zone text, p_zone_check_from int[] DEFAULT ARRAY[1, 5])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  live_text text;
  live int[];
  zone text;
BEGIN
  SELECT extversion INTO live_text FROM pg_extension WHERE extname = 'pg_cron';
  live := string_to_array(substring(live_text FROM '^[0-9]+\.[0-9]+'), '.')::int[];
  IF live < string_to_array(p_version, '.')::int[] THEN
    PERFORM pg_temp.cronspec_fail(format(
      'cronspec: generated for pg_cron %s, but this server has pg_cron %s; '
      'set [pg_cron] version in cronspec.toml to match the server', p_version, live_text));
  END IF;
  -- pg_cron 1.5+ reads cron.timezone. pg_settings shows it to superusers and members of
  -- pg_read_all_settings only (current_setting would raise for others): they skip the check.
  IF live >= p_zone_check_from THEN
    SELECT setting INTO zone FROM pg_settings WHERE name = 'cron.timezone';
    IF zone IS NOT NULL AND zone <> ALL (p_zones) THEN
      PERFORM pg_temp.cronspec_fail(format(
        'cronspec: schedules are written for %s, but cron.timezone is %s; '
        'set cron.timezone in postgresql.conf or [timezone] in cronspec.toml', p_zone, zone));
    END IF;
  END IF;
END
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_write_procedure(
  p_schema name, p_name name, p_body text, p_task text, p_spec text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  -- The setting is fixed on the procedure: PostgreSQL reads the body again at every call, with
  -- the caller's settings but for the procedure's own (a database set to
  -- standard_conforming_strings = off would otherwise read '\' and what follows otherwise).
  EXECUTE format('CREATE OR REPLACE PROCEDURE %I.%I() LANGUAGE sql '
                 'SET standard_conforming_strings = on AS %L', p_schema, p_name, p_body);
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION 'cronspec: task % (%): its SQL does not apply: %', p_task, p_spec, SQLERRM
    USING ERRCODE = SQLSTATE;
END
$fn$;
-- The settings every procedure cronspec writes carries (pg_proc.proconfig).
CREATE OR REPLACE FUNCTION pg_temp.cronspec_proconfig() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT ARRAY['standard_conforming_strings=on']
$fn$;
-- An adopted procedure is written when it is missing, or lacks cronspec's settings.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_must_write(p_schema name, p_name name)
RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT coalesce((SELECT p.proconfig IS DISTINCT FROM pg_temp.cronspec_proconfig()
                   FROM pg_proc p WHERE p.oid = to_regprocedure(format('%I.%I()', p_schema, p_name))),
                  true)
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_check_body(p_body text, p_task text, p_spec text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  -- PostgreSQL checks a body only when it is created: a scratch copy in pg_temp checks that a
  -- procedure left as it is still applies (the tables it names may have gone since).
  EXECUTE format('CREATE PROCEDURE pg_temp.cronspec_check() LANGUAGE sql '
                 'SET standard_conforming_strings = on AS %L', p_body);
  DROP PROCEDURE pg_temp.cronspec_check();
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION 'cronspec: task % (%): its SQL does not apply: %', p_task, p_spec, SQLERRM
    USING ERRCODE = SQLSTATE;
END
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_set_active(
  p_jobid bigint, p_active boolean, p_task text, p_spec text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  -- cron.alter_job is revoked from PUBLIC: only called when a job's state must change, so a
  -- role without it can apply any migration that changes no job's `active`.
  PERFORM cron.alter_job(job_id := p_jobid, active := p_active);
EXCEPTION WHEN insufficient_privilege THEN
  RAISE EXCEPTION 'cronspec: task % (%): setting its job to active = % needs cron.alter_job, '
    'which role % may not execute', p_task, p_spec, p_active::text, current_user
    USING ERRCODE = 'insufficient_privilege',
          HINT = format('apply as a superuser, or first run as one: GRANT EXECUTE ON FUNCTION '
                        'cron.alter_job(bigint, text, text, text, text, boolean) TO %I',
                        current_user);
END
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_schedule(
  p_name text, p_schedule text, p_command text, p_database text, p_task text, p_spec text)
RETURNS bigint LANGUAGE plpgsql AS $fn$
BEGIN
  IF p_database = current_database() THEN
    RETURN cron.schedule(p_name, p_schedule, p_command);
  END IF;
  -- revoked from PUBLIC like alter_job: only called for jobs placed in another database
  RETURN cron.schedule_in_database(p_name, p_schedule, p_command, p_database);
EXCEPTION WHEN insufficient_privilege THEN
  RAISE EXCEPTION 'cronspec: task % (%): scheduling its job in database % needs '
    'cron.schedule_in_database, which role % may not execute', p_task, p_spec, p_database,
    current_user
    USING ERRCODE = 'insufficient_privilege',
          HINT = format('apply as a superuser, or first run as one: GRANT EXECUTE ON FUNCTION '
                        'cron.schedule_in_database(text, text, text, text, text, boolean) TO %I',
                        current_user);
END
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_startup(p_command text, p_task text, p_spec text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE p_command;
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION 'cronspec: task % (%): its @startup run failed: %', p_task, p_spec, SQLERRM
    USING ERRCODE = SQLSTATE;
END
$fn$;
-- The search_path a job of this role gets in this database: what pg_cron's session would read
-- from ALTER ROLE / ALTER DATABASE ... SET (most specific first), else this session's default.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_job_search_path() RETURNS text
LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(
    (SELECT substr(c, length('search_path=') + 1)
     FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) c
     WHERE starts_with(c, 'search_path=')
       AND s.setrole IN (0, (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user))
       AND s.setdatabase IN (0, (SELECT d.oid FROM pg_database d
                                 WHERE d.datname = current_database()))
     ORDER BY s.setrole <> 0 AND s.setdatabase <> 0 DESC, s.setrole <> 0 DESC,
              s.setdatabase <> 0 DESC
     LIMIT 1),
    (SELECT reset_val FROM pg_settings WHERE name = 'search_path'))
$fn$;
-- What the jobs need from this database (cronspec_desired_check), checked before anything
-- changes: PostgreSQL does not check the targets of REFRESH, TRUNCATE, ANALYZE, VACUUM or LOCK
-- when it creates a procedure, and a job's own command not at all, so a missing one would fail
-- only at the job's first run. Every problem is reported at once, the first as the error.
CREATE OR REPLACE FUNCTION pg_temp.cronspec_check_live() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  old_path text := current_setting('search_path');
  job_path text;
  c record;
  rel text;
  problem text;
  problems text[] := '{}';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM cronspec_desired_check) THEN
    RETURN;
  END IF;
  job_path := pg_temp.cronspec_job_search_path();
  PERFORM set_config('search_path', job_path, true);
  FOR c IN SELECT * FROM cronspec_desired_check ORDER BY task, position LOOP
    problem := NULL;
    rel := CASE WHEN c.schema_name IS NULL THEN format('%I', c.name)
                ELSE format('%I.%I', c.schema_name, c.name) END;
    IF c.kind = 'relation' AND to_regclass(rel) IS NULL THEN
      problem := format('relation %s does not exist (%s, line %s of its SQL; search_path %s)',
                        rel, c.about, c.line, job_path);
    ELSIF c.kind = 'not_partitioned'
          AND (SELECT relkind FROM pg_class WHERE oid = to_regclass(rel)) IN ('p', 'I') THEN
      problem := format('%s is partitioned, and %s of a partitioned table cannot run inside a '
                        'transaction block (line %s of its SQL); give it a task of its own',
                        rel, c.about, c.line);
    ELSIF c.kind = 'extension' AND NOT EXISTS (SELECT 1 FROM pg_extension
                                               WHERE extname = c.name) THEN
      problem := format('it calls %s, but %s is not installed in database %s (CREATE EXTENSION '
                        '%s, with %s in shared_preload_libraries)', c.about, c.name,
                        current_database(), c.name, c.name);
    ELSIF c.kind = 'extension' AND c.name = 'pg_net'
          AND current_setting('pg_net.database_name', true) <> current_database() THEN
      problem := format('it calls %s, but pg_net''s worker serves database %s '
                        '(pg_net.database_name), not %s: requests queued here are never sent',
                        c.about, current_setting('pg_net.database_name', true),
                        current_database());
    END IF;
    IF problem IS NOT NULL THEN
      problems := problems || format('cronspec: task %s (%s): %s', c.task, c.spec, problem);
    END IF;
  END LOOP;
  PERFORM set_config('search_path', old_path, true);
  IF cardinality(problems) > 0 THEN
    PERFORM pg_temp.cronspec_fail(problems[1],
      CASE WHEN cardinality(problems) > 1 THEN
        format('%s more: %s', cardinality(problems) - 1,
               array_to_string(problems[2:], '; '))
      END);
  END IF;
END
$fn$;
