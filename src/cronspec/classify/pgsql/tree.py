"""The parse tree's shape, read from postgast's protobuf schema, and small readers of its
nodes (names, options)."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any, cast

# postgast's own stub of this module does not parse under mypy: import it untyped
pb: Any = importlib.import_module("postgast.pg_query_pb2")

_HAS_WITH = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"}
# Nodes with nothing below them that the analysis looks for: not walked into.
_LEAVES = {
    "A_Const",
    "String",
    "Integer",
    "Float",
    "Boolean",
    "BitString",
    "ColumnRef",
    "A_Star",
    "ParamRef",
    "Alias",
    "RoleSpec",
}


# (node type, field) whose RangeVar is a relation the statement creates
_CREATES = {
    ("CreateStmt", "relation"),
    ("IntoClause", "rel"),
    ("ViewStmt", "view"),
    ("CreateSeqStmt", "sequence"),
}
_DROPPABLE = {
    "OBJECT_TABLE",
    "OBJECT_VIEW",
    "OBJECT_MATVIEW",
    "OBJECT_INDEX",
    "OBJECT_SEQUENCE",
    "OBJECT_FOREIGN_TABLE",
}


@cache
def _schema() -> dict[str, dict[str, tuple[str, bool]]]:
    """For each node type, its fields (JSON names) that hold nodes: their type, and whether a
    RangeVar there is a relation the statement creates. libpg_query's JSON wraps a field of type
    Node as {"Type": {...}}, but not a field of a fixed message type: hence this schema."""
    shape: dict[str, dict[str, tuple[str, bool]]] = {}
    for name, message in pb.DESCRIPTOR.message_types_by_name.items():
        fields = {
            field.json_name: (field.message_type.name, (name, field.json_name) in _CREATES)
            for field in message.fields
            if field.message_type is not None and field.message_type.name not in _LEAVES
        }
        if fields and name not in _LEAVES:
            shape[name] = fields
    return shape


def _names(items: list[dict[str, Any]] | None) -> list[str]:
    return [str(item.get("String", {}).get("sval", "")) for item in items or ()]


def _split(names: list[str]) -> tuple[str | None, str]:
    return (names[-2] if len(names) > 1 else None), (names[-1] if names else "")


def _option(options: list[dict[str, Any]] | None, name: str) -> dict[str, Any] | None:
    for item in options or ():
        elem = item.get("DefElem", {})
        if elem.get("defname") == name:
            return cast(dict[str, Any], elem)
    return None


def _truthy(elem: dict[str, Any] | None) -> bool:
    """A boolean option as PostgreSQL reads it: present without a value means true."""
    if elem is None:
        return False
    arg = elem.get("arg")
    if not arg:
        return True
    ((_, value),) = arg.items()
    text = str(value.get("sval", value.get("ival", value.get("boolval", "")))).lower()
    return text not in {"false", "off", "0", "no", "{}"}
