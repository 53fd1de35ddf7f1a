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
  EXECUTE format('CREATE OR REPLACE PROCEDURE %I.%I() LANGUAGE sql AS %L', p_schema, p_name, p_body);
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION 'cronspec: task % (%): its SQL does not apply: %', p_task, p_spec, SQLERRM
    USING ERRCODE = SQLSTATE;
END
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.cronspec_check_body(p_body text, p_task text, p_spec text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  -- PostgreSQL checks a body only when it is created: a scratch copy in pg_temp checks that a
  -- procedure left as it is still applies (the tables it names may have gone since).
  EXECUTE format('CREATE PROCEDURE pg_temp.cronspec_check() LANGUAGE sql AS %L', p_body);
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
