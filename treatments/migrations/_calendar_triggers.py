"""Put back the SQLite calendar-version triggers (0005) on a table a later migration rebuilt.

SQLite can add a column with a default, or a CHECK constraint, only by rebuilding the table, and
the rebuild drops the table's triggers: the calendar cache would then miss changes to it. A
migration that rebuilds a watched table calls `sqlite_put_back` after the change (and after its
reversal). PostgreSQL alters tables in place and keeps its triggers: nothing to do there.

Not a migration itself: the loader skips modules whose names start with "_".
"""

from __future__ import annotations

from typing import Any

BUMP = "UPDATE treatments_calendarversion SET version = random() WHERE id = 1;"
EVERY_CHANGE = ("INSERT", "UPDATE", "DELETE")


def sqlite_put_back(schema_editor: Any, table: str, events: tuple[str, ...] = EVERY_CHANGE) -> None:
    """(Re)create `table`'s triggers, as 0005 names them, for `events` ("UPDATE OF a, b" for a
    table whose other columns the calendar does not show)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in events:
        name = f"calendar_bump_{table}_{event.split()[0].lower()}"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP} END")
