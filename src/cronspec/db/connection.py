"""The connection, and every database failure as a `DbError` carrying the server's message,
DETAIL and HINT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg


class DbError(Exception):
    """A connection, privilege or migration failure: the server's message, detail and hint."""

    def __init__(self, message: str, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint

    def lines(self) -> list[str]:
        """One line each: the message, then DETAIL and HINT when the server sent them."""
        lines = [self.message]
        if self.detail:
            lines.append(f"detail: {self.detail}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return lines


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _error(exc: BaseException, prefix: str) -> DbError:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        return DbError(
            f"{prefix}: {_one_line(primary)}",
            _one_line(diag.message_detail) or None,  # type: ignore[union-attr]
            _one_line(diag.message_hint) or None,  # type: ignore[union-attr]
        )
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    message = lines[0] if lines else type(exc).__name__
    return DbError(f"{prefix}: {message}", " ".join(lines[1:]) or None)


def connect(dsn: str) -> psycopg.Connection[Any]:
    """A connection to `dsn`, or a DbError saying why not (psycopg missing, server refused)."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise DbError("psycopg is not installed: pip install 'cronspec[db]'") from exc
    try:
        conn = psycopg.connect(dsn, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise _error(exc, "cannot connect") from None
    conn.add_notice_handler(lambda _: None)  # the migration's NOTICE summary is for psql users
    return conn
