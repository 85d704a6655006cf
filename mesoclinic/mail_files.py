"""The development mail backend: each email a file of its own in var/mail/, readable as it is.

Django's file backend appends every message sent over one connection to one file, and the
messaging dispatcher sends a batch per connection, so one file would hold many patients' emails.
Here each message is a `.eml` file (open it in a mail program, or read it as text), named by the
time it was written and its subject, so `ls var/mail` lists the emails in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend as FileBackend


def _slug(subject: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", subject.lower()).strip("-")[:60] or "no-subject"


def _write_new(folder: Path, name: str, content: bytes) -> Path:
    """Write `name`.eml, or `name`-2.eml, ... : two messages with one subject written in the same
    microsecond (a frozen test clock, a coarse system clock) never overwrite each other."""
    for number in range(1, 10_000):
        path = folder / (f"{name}.eml" if number == 1 else f"{name}-{number}.eml")
        try:
            with path.open("xb") as out:
                out.write(content)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{folder / name}.eml and 9,998 numbered copies")


class EmailBackend(FileBackend):
    # The file backend's open() creates an empty .log file to append to; each message here is a
    # file of its own, so a connection holds nothing open.
    def open(self) -> bool:
        return False

    def close(self) -> None:
        return None

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        folder = Path(self.file_path)
        with self._lock:
            for message in email_messages:
                if not message.recipients():
                    continue
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")  # noqa: DTZ005 (a file name)
                name = f"{stamp}-{_slug(str(message.subject))}"
                # One line ending for the whole file, so it reads as text anywhere.
                _write_new(folder, name, message.message().as_bytes().replace(b"\r\n", b"\n"))
                sent += 1
        return sent
