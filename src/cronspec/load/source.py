"""YAML text to plain data plus a source map from every value to its position.

PyYAML is strict about syntax but lax about meaning: it keeps the last of duplicate keys, shares
aliased nodes and reads YAML 1.1 oddities (`12:30` is 750, `on` is True). This module composes the
node graph itself (with the C parser when present) and builds the data by hand so that each of
those cases becomes a diagnostic with a position instead of a silent surprise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..diagnostics import Diagnostic, Origin, Span, error, position, printable
from .scalars import scalar_grid
from .syntax import MAX_DEPTH, syntax_error

MAX_FILE_BYTES = 256 * 1024

try:  # the C parser is ~7x faster; fall back cleanly where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]

_TAG_NAMES = {
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null (an empty value)",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:str": "a string",
    "tag:yaml.org,2002:binary": "binary data",
}


@dataclass(frozen=True)
class Scalar:
    """What YAML made of a scalar: the raw text as written and the tag it resolved to."""

    raw: str
    tag: str
    style: str | None

    @property
    def kind(self) -> str:
        """What YAML read, in words (`an integer`, `a date`)."""
        return _TAG_NAMES.get(self.tag, self.tag)


@dataclass
class SourceMap:
    """The span of each key and value, by data path, and what YAML made of each scalar."""

    path: str
    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)
    scalars: dict[Path, Scalar] = field(default_factory=dict)

    def span(self, loc: Path, *, key: bool = False) -> Span:
        """The closest known span for `loc`, walking up to the parent when needed."""
        table = self.keys if key else self.values
        probe = tuple(loc)
        while probe:
            if probe in table:
                return table[probe]
            if not key and probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
        return Span.at(self.path, 1, 1, 0)


@dataclass
class Document:
    """One spec file read: its text (LF line endings), its data and the source map."""

    path: str
    text: str
    data: dict[str, Any]
    source: SourceMap


class _Abort(Exception):
    """Unwinds the builder's recursion with the one diagnostic of a file; never escapes
    `parse_document`."""

    def __init__(self, diag: Diagnostic) -> None:
        super().__init__(diag.message)
        self.diag = diag


def too_large(path: str, size: int) -> Diagnostic:
    """Y109: a spec of `size` bytes is over the limit."""
    return error(
        "Y109",
        f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit for one spec",
        Span(path),
    )


def decode(path: str, raw: bytes) -> tuple[str | None, list[Diagnostic]]:
    """Bytes to text with LF line endings, or one diagnostic saying why not."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [too_large(path, len(raw))]
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, [
            error(
                "Y107",
                "file starts with a byte-order mark; save it as UTF-8 without BOM",
                Span.at(path, 1, 1),
            )
        ]
    nul = raw.find(b"\0")
    if nul >= 0:
        prefix = raw[:nul].decode("utf-8", "replace")
        line, col = position(prefix, len(prefix))
        return None, [
            error("Y108", "file contains a NUL byte; specs are text", Span.at(path, line, col))
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", "replace")
        line, col = position(prefix, len(prefix))
        return None, [
            error(
                "Y106",
                f"invalid UTF-8 byte 0x{raw[exc.start]:02x}; specs must be UTF-8",
                Span.at(path, line, col),
            )
        ]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
MAX_DIGITS = 4300  # Python's own limit for reading and printing an integer
_HUGE = 10**MAX_DIGITS


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!", 1)


def _too_many_digits(where: Span) -> Diagnostic:
    return error(
        "Y118",
        f"an integer of more than {MAX_DIGITS} digits is too large for cronspec; quote it if it "
        "is text",
        where,
    )


def _span(path: str, node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class _Builder:
    """Walks the composed node graph once, building data and the source map."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.source = SourceMap(path)
        self.constructor = _Loader("")
        self.seen: set[int] = set()

    def build(self, node: yaml.Node, loc: Path, depth: int) -> Any:
        if id(node) in self.seen:
            raise _Abort(
                error(
                    "Y103",
                    "YAML anchors and aliases are not allowed in specs",
                    _span(self.path, node),
                )
            )
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _Abort(
                error("Y110", f"nesting deeper than {MAX_DEPTH} levels", _span(self.path, node))
            )
        self.source.values[loc] = _span(self.path, node)
        if isinstance(node, yaml.MappingNode):
            self._plain_collection(node, _MAP)
            return self._mapping(node, loc, depth)
        if isinstance(node, yaml.SequenceNode):
            self._plain_collection(node, _SEQ)
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        self.source.scalars[loc] = Scalar(node.value, node.tag, node.style)
        return self._scalar(node)

    def _plain_collection(self, node: yaml.Node, tag: str) -> None:
        if node.tag != tag:  # `!!set`, `!!omap`, a local tag: not what a plain reader sees
            raise _Abort(
                error(
                    "Y117",
                    f"the YAML tag `{_short_tag(node.tag)}` is not allowed in specs; write a "
                    "plain mapping or list",
                    _span(self.path, node),
                )
            )

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        """The value of a scalar, or Y117/Y118 when it does not fit its tag or is too large."""
        where = _span(self.path, node)
        raw = printable(node.value if len(node.value) <= 40 else node.value[:37] + "...")
        if node.tag not in _TAG_NAMES:
            raise _Abort(
                error(
                    "Y117",
                    f"unknown YAML tag `{printable(_short_tag(node.tag))}`; specs take plain "
                    "values: remove the tag, or quote the whole value if it is text",
                    where,
                )
            )
        if node.tag == "tag:yaml.org,2002:bool" and node.value.lower() not in {"true", "false"}:
            # YAML 1.1 booleans (`on`, `yes`) are a trap: keep the text, validation says more
            return node.value
        implicit = not node.style and node.tag == self.constructor.resolve(  # type: ignore[no-untyped-call]
            yaml.ScalarNode, node.value, (True, False)
        )
        kind = _TAG_NAMES[node.tag]
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_DIGITS:
            raise _Abort(_too_many_digits(where))
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError) as exc:
            why = f" ({exc})" if implicit and isinstance(exc, ValueError) else ""
            fix = (
                "quote it if it is text"
                if implicit
                else f"remove the tag `{_short_tag(node.tag)}`, or quote the value if it is text"
            )
            raise _Abort(
                error("Y117", f"YAML cannot read `{raw}` as {kind}{why}; {fix}", where)
            ) from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _HUGE:
            raise _Abort(_too_many_digits(where))
        return value

    def _mapping(self, node: yaml.MappingNode, loc: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Abort(
                    error(
                        "Y103",
                        "YAML merge keys (`<<`) are not allowed in specs",
                        _span(self.path, key_node),
                    )
                )
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise _Abort(
                    error(
                        "Y113",
                        "mapping keys must be plain strings",
                        _span(self.path, key_node),
                    )
                )
            key = key_node.value
            key_span = _span(self.path, key_node)
            if key in out:
                raise _Abort(
                    error(
                        "Y102",
                        f"duplicate key `{key}` (first at line {first_line[key]}); "
                        "YAML would silently keep the last one",
                        key_span,
                    )
                )
            first_line[key] = key_span.line
            self.source.keys[(*loc, key)] = key_span
            out[key] = self.build(value_node, (*loc, key), depth + 1)
        return out


def parse_document(path: str, raw: bytes) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one spec file's bytes. Either a document or diagnostics, never both."""
    text, diags = decode(path, raw)
    if text is None:
        return None, diags
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return None, [syntax_error(path, text, exc)]
    except RecursionError:  # PyYAML without libyaml composes recursively
        return None, [error("Y110", f"nesting deeper than {MAX_DEPTH} levels", Span.at(path, 1, 1))]
    except yaml.reader.ReaderError as exc:  # characters YAML does not allow at all
        line, col = position(text, exc.position)
        return None, [
            error(
                "Y101",
                f"invalid YAML: character U+{exc.character:04X} is not allowed in YAML text",
                Span.at(path, line, col),
            )
        ]
    except yaml.YAMLError as exc:  # pragma: no cover - other unmarked errors are rare
        return None, [error("Y101", f"invalid YAML: {exc}", Span.at(path, 1, 1))]
    if node is None:
        return None, [
            error(
                "Y104",
                "file is empty; a spec needs at least name, description, kind and schedule",
                Span(path),
            )
        ]
    if not isinstance(node, yaml.MappingNode):
        return None, [
            error("Y111", "a spec must be a YAML mapping of keys to values", _span(path, node))
        ]
    builder = _Builder(path)
    try:
        data = builder.build(node, (), 0)
    except _Abort as abort:
        return None, [abort.diag]
    return Document(path, text, data, builder.source), []


def text_origin(doc: Document, loc: Path) -> Origin:
    """Where the text of a string value is in the file, to place positions inside it.

    For a literal block scalar (`|`) the lines of the value map one to one onto lines of the
    file after the indicator, at a fixed indentation, so positions inside it map exactly.
    Elsewhere (plain, quoted, folded) everything maps to where the value starts.
    """
    whole = doc.source.values.get(loc, Span.at(doc.path, 1, 1, 0))
    scalar = doc.source.scalars.get(loc)
    if scalar is None or scalar.style != "|":
        quote = 1 if scalar and scalar.style in {"'", '"'} else 0
        end_col = whole.end_col - quote if whole.end_line == whole.line else whole.end_col
        start = Span(doc.path, whole.line, whole.col + quote, whole.end_line, end_col)
        value = _value(doc.data, loc)
        grid = None
        if scalar is not None and isinstance(value, str):  # where each character comes from
            ends = (whole.line, whole.col), (whole.end_line, whole.end_col)
            grid = scalar_grid(doc.text, *ends, value, scalar.style)
        return Origin(doc.path, start.line, start.col, exact=False, whole=start, grid=grid)
    lines = doc.text.split("\n")
    # An explicit indentation indicator (`|2`) sets the indentation: more spaces on the first
    # line are text. It counts from the indentation of the mapping that holds the key.
    header = lines[whole.line - 1][whole.col - 1 :] if 0 < whole.line <= len(lines) else ""
    explicit = re.match(r"\|[+-]?([1-9])", header)
    key = doc.source.keys.get(loc)
    if explicit and key is not None:
        indent = key.col - 1 + int(explicit.group(1))
        return Origin(doc.path, whole.line + 1, indent + 1, exact=True, whole=whole)
    # `whole.line` is 1-based, so lines[whole.line] is the first line after the indicator
    for content in lines[whole.line :]:
        if content.strip():
            indent = len(content) - len(content.lstrip(" "))
            return Origin(doc.path, whole.line + 1, indent + 1, exact=True, whole=whole)
    return Origin(doc.path, whole.line + 1, 1, exact=True, whole=whole)


def _value(data: Any, loc: Path) -> Any:
    for key in loc:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data
