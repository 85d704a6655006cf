"""An explicit, ordered hook table: how a lower layer lets higher ones react to its writes.

A lower app owns one table (a module named for it, e.g. `treatments.booking_hooks`) listing its
slots in calling order; the higher apps fill them from their `AppConfig.ready()`. The lower app
calls the table inside its own transaction, so a handler that raises rolls the whole write back.
Unlike a Django signal, the order is written down, tests can pin it, and a slot nobody filled is
an error at the first call rather than a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class HookMissing(RuntimeError):
    """A slot was never filled: an app that should react is not installed or not ready."""


class HookTable(Generic[P]):
    def __init__(self, name: str, slots: tuple[str, ...]) -> None:
        self.name = name
        self.slots = slots
        self._handlers: dict[str, Callable[P, None]] = {}

    def register(self, slot: str, handler: Callable[P, None]) -> None:
        """Fill `slot` with `handler`. Registering the same handler again is harmless (ready()
        can run twice in tests); a different handler for a filled slot is a mistake."""
        if slot not in self.slots:
            raise ValueError(f"unknown {self.name} slot {slot!r}; the slots are {self.slots}")
        current = self._handlers.get(slot)
        if current is not None and current is not handler:
            raise ValueError(f"{self.name} slot {slot!r} is already filled by {current!r}")
        self._handlers[slot] = handler

    def handlers(self) -> list[tuple[str, Callable[P, None]]]:
        """The filled table, in calling order."""
        missing = [slot for slot in self.slots if slot not in self._handlers]
        if missing:
            raise HookMissing(f"{self.name} slots not filled: {', '.join(missing)}")
        return [(slot, self._handlers[slot]) for slot in self.slots]

    def call(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run every handler in order. Call inside the owning write's transaction."""
        for _slot, handler in self.handlers():
            handler(*args, **kwargs)
