"""What the findings look for (functions and statements that reach outside, run SQL given as
text, change how SQL is read), each statement's command tag, and where PostgreSQL runs it."""

from __future__ import annotations

from typing import Any

from .model import Placement
from .tree import _option, _truthy

# What a spec names in `reaches:` to accept, on purpose, a body that reaches outside the
# database (classify reads it; spec.py lists the same names).
CAPABILITIES: dict[str, str] = {
    "server_files": "reads or writes files on the database server",
    "server_programs": "runs programs on the database server",
    "http": "makes HTTP requests from the database session and waits for them",
    "other_databases": "connects to other database servers (dblink, foreign data, replication)",
    "server_config": "changes the server's configuration or loads its libraries",
}

_FILES_READ = ("reads the server's file system", "server_files")
# name -> (what it does, the capability that accepts it)
OUTSIDE_FUNCTIONS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "pg_read_file",
            "pg_read_binary_file",
            "pg_stat_file",
            "pg_ls_dir",
            "pg_logdir_ls",
            "pg_current_logfile",
        ),
        _FILES_READ,
    ),
    **dict.fromkeys(
        ("pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync"),
        ("writes the server's file system", "server_files"),
    ),
    **dict.fromkeys(
        ("lo_import", "lo_export"),
        ("moves large objects to or from server files", "server_files"),
    ),
    **dict.fromkeys(
        ("http", "http_get", "http_post", "http_put", "http_patch", "http_delete", "http_head"),
        ("makes HTTP requests (pgsql-http)", "http"),
    ),
}
_OUTSIDE_PREFIXES = {
    "pg_ls_": _FILES_READ,
    "dblink": ("connects to another database server", "other_databases"),
}
# pg_net's functions live in schema net; its request functions queue and return at once.
_PG_NET_WAITS = {"http_collect_response", "_http_collect_response", "_await_response"}
# Functions that run SQL given as text: the analysis cannot see what that SQL does.
_RUNS_TEXT = {
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "ts_stat",
    "ts_rewrite",
    "pg_background_launch",
}
_CRON_TEXT = {"schedule", "schedule_in_database", "alter_job"}  # pg_cron: SQL text as a job
_PARSE_SETTINGS = {"standard_conforming_strings"}
# DefineStmt / CREATE TYPE ... AS RANGE options whose value names a function.
_FUNCTION_OPTIONS = {
    "function",
    "procedure",
    "sfunc",
    "finalfunc",
    "combinefunc",
    "serialfunc",
    "deserialfunc",
    "msfunc",
    "minvfunc",
    "mfinalfunc",
    "input",
    "output",
    "receive",
    "send",
    "typmod_in",
    "typmod_out",
    "analyze",
    "subscript",
    "canonical",
    "subtype_diff",
    "restrict",
    "join",
}
# Statements whose ObjectWithArgs only names an existing function (not a way to call it).
_NAMING_ONLY = {
    "DropStmt",
    "CommentStmt",
    "SecLabelStmt",
    "AlterObjectSchemaStmt",
    "AlterOwnerStmt",
    "RenameStmt",
    "AlterFunctionStmt",
    "AlterObjectDependsStmt",
}
_OTHER = "other_databases"
_DEFINES_OUTSIDE: dict[str, tuple[str, str]] = {
    "CreateForeignTableStmt": ("defines a foreign table: data outside this database", _OTHER),
    "CreateForeignServerStmt": ("defines a foreign server: another data source", _OTHER),
    "AlterForeignServerStmt": ("changes a foreign server: another data source", _OTHER),
    "CreateUserMappingStmt": ("defines a user mapping for a foreign server", _OTHER),
    "ImportForeignSchemaStmt": ("imports foreign tables: data outside this database", _OTHER),
    "CreateFdwStmt": ("defines a foreign-data wrapper", _OTHER),
    "CreateSubscriptionStmt": ("connects to another server (logical replication)", _OTHER),
    "LoadStmt": ("loads a shared library from the server's file system", "server_config"),
    "CreateTableSpaceStmt": ("creates a directory on the server's file system", "server_files"),
    "AlterSystemStmt": (
        "writes the server's configuration file, where settings such as archive_command run "
        "programs",
        "server_config",
    ),
}


_TAGS = {
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "CallStmt": "CALL",
    "DoStmt": "DO",
    "CopyStmt": "COPY",
    "TruncateStmt": "TRUNCATE TABLE",
    "LockStmt": "LOCK TABLE",
    "ClusterStmt": "CLUSTER",
    "ReindexStmt": "REINDEX",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "IndexStmt": "CREATE INDEX",
    "CreateStmt": "CREATE TABLE",
    "ViewStmt": "CREATE VIEW",
    "CreateSeqStmt": "CREATE SEQUENCE",
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CheckPointStmt": "CHECKPOINT",
    "VariableShowStmt": "SHOW",
    "ListenStmt": "LISTEN",
    "UnlistenStmt": "UNLISTEN",
    "NotifyStmt": "NOTIFY",
    "PrepareStmt": "PREPARE",
    "ExecuteStmt": "EXECUTE",
    "DeallocateStmt": "DEALLOCATE",
    "DeclareCursorStmt": "DECLARE CURSOR",
    "ClosePortalStmt": "CLOSE CURSOR",
    "ExplainStmt": "EXPLAIN",
    "LoadStmt": "LOAD",
    "CreateTrigStmt": "CREATE TRIGGER",
    "RuleStmt": "CREATE RULE",
    "CommentStmt": "COMMENT",
    "CreateExtensionStmt": "CREATE EXTENSION",
    "CreateSchemaStmt": "CREATE SCHEMA",
    "CreateRoleStmt": "CREATE ROLE",
    "AlterDatabaseStmt": "ALTER DATABASE",
    "AlterDatabaseSetStmt": "ALTER DATABASE",
    "AlterRoleSetStmt": "ALTER ROLE",
    "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "AlterSubscriptionStmt": "ALTER SUBSCRIPTION",
    "DropSubscriptionStmt": "DROP SUBSCRIPTION",
    "CreatePublicationStmt": "CREATE PUBLICATION",
}


def _words(enum: Any, prefix: str) -> str:
    text = str(enum or "").removeprefix(prefix)
    return {"MATVIEW": "MATERIALIZED VIEW"}.get(text, text.replace("_", " "))


def _kind(top: str, f: dict[str, Any]) -> str:
    """PostgreSQL's command tag for a statement (what psql prints after running it)."""
    if top == "SelectStmt":
        return "SELECT INTO" if f.get("intoClause") else "SELECT"
    if top == "VacuumStmt":
        return "VACUUM" if f.get("is_vacuumcmd") else "ANALYZE"
    if top == "CreateFunctionStmt":
        return "CREATE PROCEDURE" if f.get("is_procedure") else "CREATE FUNCTION"
    if top == "CreateTableAsStmt":
        matview = f.get("objtype") == "OBJECT_MATVIEW"
        return "CREATE MATERIALIZED VIEW" if matview else "CREATE TABLE AS"
    if top == "DropStmt":
        return "DROP " + _words(f.get("removeType"), "OBJECT_")
    if top in ("AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt", "AlterOwnerStmt"):
        kind = f.get("objtype") or f.get("renameType") or f.get("objectType")
        return "ALTER " + _words(kind, "OBJECT_")
    if top == "DefineStmt":
        return "CREATE " + _words(f.get("kind"), "OBJECT_")
    if top == "TransactionStmt":
        return {"START": "START TRANSACTION", "SAVEPOINT": "SAVEPOINT"}.get(
            _words(f.get("kind"), "TRANS_STMT_"), _words(f.get("kind"), "TRANS_STMT_")
        )
    if top == "VariableSetStmt":
        return "RESET" if str(f.get("kind", "")).startswith("VAR_RESET") else "SET"
    if top == "DiscardStmt":
        return "DISCARD " + _words(f.get("target"), "DISCARD_")
    if top == "GrantStmt":
        return "GRANT" if f.get("is_grant") else "REVOKE"
    if top == "FetchStmt":
        return "MOVE" if f.get("ismove") else "FETCH"
    if top in _TAGS:
        return _TAGS[top]
    words = "".join(c if c.islower() else " " + c for c in top.removesuffix("Stmt")).split()
    return " ".join(words).upper()


_CURSOR_OPT_HOLD = 0x0020  # PostgreSQL's parsenodes.h


def _placement(top: str, f: dict[str, Any]) -> tuple[Placement, str]:
    """Where PostgreSQL 15 runs a statement, and the name its error gives (tests check each)."""
    if top == "VacuumStmt":
        return ("alone", "VACUUM") if f.get("is_vacuumcmd") else ("anywhere", "")
    if top == "ClusterStmt":
        return ("alone_if_partitioned" if f.get("relation") else "alone"), "CLUSTER"
    if top == "ReindexStmt":
        target = _words(f.get("kind"), "REINDEX_OBJECT_")
        if _truthy(_option(f.get("params"), "concurrently")):
            return "alone", "REINDEX CONCURRENTLY"
        if target in ("SCHEMA", "SYSTEM", "DATABASE"):
            return "alone", f"REINDEX {target}"
        return "alone_if_partitioned", f"REINDEX {target}"
    if top == "IndexStmt" and f.get("concurrent"):
        return "alone", "CREATE INDEX CONCURRENTLY"
    if top == "DropStmt" and f.get("concurrent"):
        return "alone", "DROP INDEX CONCURRENTLY"
    if top == "AlterTableStmt":
        for cmd in f.get("cmds") or ():
            part = cmd.get("AlterTableCmd", {}).get("def", {}).get("PartitionCmd", {})
            if part.get("concurrent"):
                return "alone", "ALTER TABLE ... DETACH CONCURRENTLY"
    if top in ("CreatedbStmt", "DropdbStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt"):
        return "alone", _TAGS[top]
    if top == "AlterDatabaseStmt" and _option(f.get("options"), "tablespace") is not None:
        return "alone", "ALTER DATABASE SET TABLESPACE"
    if top == "AlterSystemStmt":
        return "alone", "ALTER SYSTEM"
    if top == "DiscardStmt" and f.get("target") == "DISCARD_ALL":
        return "alone", "DISCARD ALL"
    if top == "CreateSubscriptionStmt":
        options = f.get("options")
        connect = _option(options, "connect")
        slot = _option(options, "create_slot")
        if (connect is None or _truthy(connect)) and (slot is None or _truthy(slot)):
            return "alone", "CREATE SUBSCRIPTION ... WITH (create_slot = true)"
    if top == "DropSubscriptionStmt":  # refused in a block while the subscription has a slot
        return "alone", "DROP SUBSCRIPTION"
    if top == "AlterSubscriptionStmt":  # from PostgreSQL's source: refresh needs a connection
        kind = str(f.get("kind", ""))
        refresh = _option(f.get("options"), "refresh")
        if kind.endswith("REFRESH") or (
            kind.endswith("PUBLICATION") and (refresh is None or _truthy(refresh))
        ):
            return "alone", "ALTER SUBSCRIPTION with refresh"
    if top == "CallStmt":
        return "top_level", "CALL"
    if top == "LockStmt":
        return "in_block", "LOCK TABLE"
    if top == "DeclareCursorStmt" and not int(f.get("options", 0)) & _CURSOR_OPT_HOLD:
        return "in_block", "DECLARE CURSOR"
    return "anywhere", ""
