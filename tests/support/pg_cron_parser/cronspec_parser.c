/*
 * The test suite's window on pg_cron's own schedule parser.
 *
 * pg_cron's `parse_cron_entry(char *)` (src/entry.c, Vixie cron's parser) is an exported
 * symbol of pg_cron.so, which the server preloads with RTLD_GLOBAL. This function calls it in
 * the running server and returns the bytes of the `entry` it builds (or NULL where pg_cron
 * refuses the text), so that a test reads the minutes, hours, days, months, weekdays and flags
 * pg_cron itself would run, on 1.4.2 as on 1.6.7. The layout of `entry` differs between
 * releases (1.5 added a field): tests/support/pg_cron_parser/__init__.py finds it by parsing a
 * known schedule first.
 *
 * Test-only: the suite builds it with PGXS into a temporary folder and creates the function
 * in pg_temp of its own session.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

PG_MODULE_MAGIC;

extern void *parse_cron_entry(char *schedule);
extern void free_entry(void *entry);

PG_FUNCTION_INFO_V1(cronspec_parse_schedule);

Datum
cronspec_parse_schedule(PG_FUNCTION_ARGS)
{
	char	   *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		size = PG_GETARG_INT32(1);
	void	   *entry;
	bytea	   *result;

	if (size <= 0 || size > 1024)
		ereport(ERROR, (errmsg("size must be between 1 and 1024")));
	entry = parse_cron_entry(schedule);
	if (entry == NULL)
		PG_RETURN_NULL();
	result = (bytea *) palloc(VARHDRSZ + size);
	SET_VARSIZE(result, VARHDRSZ + size);
	memcpy(VARDATA(result), entry, size);
	free_entry(entry);
	PG_RETURN_BYTEA_P(result);
}
