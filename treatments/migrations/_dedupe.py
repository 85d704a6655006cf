"""Before a name becomes unique whatever its case: rename the later of any names that differ
only in case ("room 1" beside "Room 1" becomes "room 1 (2)"), so the constraint can be added to
a clinic's existing data. The manager sees the renamed entry in the set-up lists and may rename
it; nothing refers to these rows by name.

Not a migration itself: the loader skips modules whose names start with "_".
"""

from __future__ import annotations

from typing import Any


def rename_case_duplicates(model: Any, max_length: int) -> None:
    taken = {name.lower() for name in model.objects.values_list("name", flat=True)}
    seen: set[str] = set()
    for row in model.objects.order_by("pk"):
        key = row.name.lower()
        if key not in seen:
            seen.add(key)
            continue
        n = 2
        while True:
            suffix = f" ({n})"
            candidate = row.name[: max_length - len(suffix)] + suffix
            if candidate.lower() not in taken:
                break
            n += 1
        taken.add(candidate.lower())
        seen.add(candidate.lower())
        model.objects.filter(pk=row.pk).update(name=candidate)
