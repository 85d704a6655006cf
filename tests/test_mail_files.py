"""`make run`'s emails: one readable file per message in var/mail/."""

from __future__ import annotations

import datetime as dt
import email

import time_machine
from django.core.mail import EmailMessage, get_connection


def test_each_message_of_one_batch_is_a_file_of_its_own(tmp_path):
    connection = get_connection("mesoclinic.mail_files.EmailBackend", file_path=str(tmp_path))
    sent = connection.send_messages(
        [
            EmailMessage("Your appointment on Wed 15 Jul", "See you then.", to=["a@example.test"]),
            EmailMessage("Aftercare: the first 24 hours", "Drink water.", to=["b@example.test"]),
        ]
    )
    files = sorted(tmp_path.iterdir())
    assert sent == 2 and len(files) == 2
    assert all(f.suffix == ".eml" for f in files)
    read = [email.message_from_bytes(f.read_bytes()) for f in files]
    assert {m["Subject"] for m in read} == {
        "Your appointment on Wed 15 Jul",
        "Aftercare: the first 24 hours",
    }
    assert "aftercare-the-first-24-hours" in " ".join(f.name for f in files)


def test_two_messages_with_one_subject_at_one_instant_are_two_files(tmp_path):
    connection = get_connection("mesoclinic.mail_files.EmailBackend", file_path=str(tmp_path))
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC), tick=False):
        sent = connection.send_messages(
            [
                EmailMessage("Aftercare", "For A.", to=["a@example.test"]),
                EmailMessage("Aftercare", "For B.", to=["b@example.test"]),
            ]
        )
    bodies = {email.message_from_bytes(f.read_bytes()).get_payload() for f in tmp_path.iterdir()}
    assert sent == 2 and bodies == {"For A.", "For B."}


def test_an_opened_connection_leaves_no_empty_file(tmp_path):
    # The dispatcher opens one connection per batch, as Django's file backend would use it.
    with get_connection("mesoclinic.mail_files.EmailBackend", file_path=str(tmp_path)) as conn:
        conn.send_messages([EmailMessage("Aftercare", "Drink water.", to=["a@example.test"])])
    assert [f.suffix for f in tmp_path.iterdir()] == [".eml"]
