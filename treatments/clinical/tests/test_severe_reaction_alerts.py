"""A severe reaction reaches a person: alerts to the practitioners on duty, and acknowledgement."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from mesoclinic.access import Role
from mesoclinic.audit.models import AuditEntry
from treatments.clinical.errors import ClinicalError
from treatments.clinical.models import Reaction
from treatments.clinical.selectors import dashboard_reactions
from treatments.clinical.services.reactions import (
    reaction_acknowledge,
    reaction_report,
    reaction_update,
)
from treatments.dataprotection.selectors import patient_export_read
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Status
from treatments.models import Session, WorkingException
from treatments.tests.factories import SessionFactory, StaffProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# Tuesday 14 July 2026, 09:00 in London.
NOW = dt.datetime(2026, 7, 14, 9, 0, tzinfo=LONDON)
TODAY = NOW.date()


def practitioner(username: str, **kwargs):
    return StaffProfileFactory(
        user=UserFactory(username=username, first_name=username.title(), role=Role.PRACTITIONER),
        **kwargs,
    )


@pytest.fixture
def done_session(patient, face, practitioner_profile, room):
    return SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=NOW - dt.timedelta(days=1),
        status=Session.Status.COMPLETED,
    )


def report(session, severity: str = "severe", **kwargs) -> Reaction:
    with time_machine.travel(NOW, tick=False):
        return reaction_report(
            session=session,
            patient=session.patient,
            type="allergic",
            severity=severity,
            onset=NOW - dt.timedelta(hours=2),
            description="My lips are swelling up",
            source="patient",
            **kwargs,
        )


def alerts() -> dict[str, OutboxMessage]:
    rows = OutboxMessage.objects.filter(kind=Kind.SEVERE_REACTION_ALERT).select_related(
        "staff_user"
    )
    return {row.staff_user.username: row for row in rows if row.staff_user is not None}


def test_a_severe_reaction_alerts_each_practitioner_on_duty_today_once(
    done_session, practitioner_profile
):
    practitioner("offweekly", hours=False)  # no weekly hours at all
    on_leave = practitioner("onleave")
    WorkingException.objects.create(staff=on_leave, date=TODAY, kind="leave")
    extra = practitioner("extra", hours=False)
    WorkingException.objects.create(
        staff=extra, date=TODAY, kind="extra", starts=dt.time(17), ends=dt.time(19)
    )
    # A therapist is not a practitioner for this alert.
    StaffProfileFactory(user=UserFactory(username="tess", role=Role.THERAPIST))

    reaction = report(done_session)

    sent = alerts()
    assert sorted(sent) == ["doctor", "extra"]
    for row in sent.values():
        assert (row.status, row.reaction_id, row.patient_id) == (
            Status.PENDING,
            reaction.pk,
            done_session.patient_id,
        )
        assert row.due_at == NOW  # at once


def test_mild_and_moderate_reactions_alert_no_one(done_session, practitioner_profile):
    report(done_session, severity="mild")
    report(done_session, severity="moderate")
    assert alerts() == {}


def test_with_no_practitioner_on_duty_every_active_practitioner_is_alerted(
    done_session, practitioner_profile
):
    WorkingException.objects.create(staff=practitioner_profile, date=TODAY, kind="leave")
    practitioner("weekender", hours=False)
    gone = practitioner("gone")
    WorkingException.objects.create(staff=gone, date=TODAY, kind="leave")
    gone.user.is_active = False
    gone.user.save()

    report(done_session)

    assert sorted(alerts()) == ["doctor", "weekender"]


def test_a_reaction_raised_to_severe_alerts_once_however_often_it_is_saved(
    done_session, practitioner_profile
):
    reaction = report(done_session, severity="moderate")
    assert alerts() == {}
    update = {"by": practitioner_profile.user, "action_taken": "", "resolution": ""}
    with time_machine.travel(NOW, tick=False):
        reaction_update(reaction=reaction, severity="severe", resolved_on=None, **update)
        reaction_update(reaction=reaction, severity="severe", resolved_on=None, **update)
    assert list(alerts()) == ["doctor"]
    assert OutboxMessage.objects.filter(kind=Kind.SEVERE_REACTION_ALERT).count() == 1


def test_the_alert_s_subject_holds_no_patient_name_nor_condition_and_its_body_no_free_text(
    done_session, practitioner_profile
):
    report(done_session)
    with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
        dispatch_in_process()
    [email] = mail.outbox
    assert email.to == [practitioner_profile.user.email]
    subject = email.subject.lower()
    assert "severe reaction" in subject
    for detail in ("jane", "doe", "allergic", "lips", "face"):
        assert detail not in subject
    body = email.body
    assert "Jane Doe" in body
    assert reverse("clinical:reaction_detail", args=[Reaction.objects.get().pk]) in body
    assert "lips" not in body.lower() and "lips" not in email.alternatives[0][0].lower()


def test_the_dispatcher_sends_the_alert_exactly_once_when_run_twice(
    done_session, practitioner_profile
):
    practitioner("second")
    report(done_session)
    with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
        assert dispatch_in_process() == 2
        assert dispatch_in_process() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["doctor@clinic.test", "second@clinic.test"]
    for row in alerts().values():
        assert (row.status, row.attempts, row.sent_to) == (Status.SENT, 1, row.staff_user.email)


def test_an_alert_to_a_practitioner_without_an_email_is_skipped_with_the_reason(
    done_session, practitioner_profile
):
    practitioner_profile.user.email = ""
    practitioner_profile.user.save()
    report(done_session)
    row = alerts()["doctor"]
    assert row.status == Status.SKIPPED
    assert "member of staff has no email" in row.status_reason


def test_acknowledging_clears_the_dashboard_and_writes_one_audit_entry(
    done_session, practitioner, practitioner_profile
):
    reaction = report(done_session)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert dashboard_reactions()["severe_today"] == [reaction]
        page = practitioner.get(reverse("clinical:dashboard"))
        ack = reverse("clinical:reaction_acknowledge", args=[reaction.pk])
        assert ack in page.content.decode()

        response = practitioner.post(ack)

        assert response.status_code == 302
        assert dashboard_reactions()["severe_today"] == []
        assert ack not in practitioner.get(reverse("clinical:dashboard")).content.decode()
    reaction.refresh_from_db()
    assert reaction.acknowledged_by == practitioner_profile.user
    assert reaction.acknowledged_at == NOW + dt.timedelta(minutes=5)
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.ACKNOWLEDGE)
    assert entries.count() == 1
    assert entries.get().patient_id == done_session.patient_id


def test_a_reaction_is_acknowledged_once(done_session, practitioner_profile):
    reaction = report(done_session)
    reaction_acknowledge(reaction=reaction, by=practitioner_profile.user)
    with pytest.raises(ClinicalError, match="already been acknowledged"):
        reaction_acknowledge(reaction=reaction, by=practitioner_profile.user)
    mild = report(done_session, severity="mild")
    with pytest.raises(ClinicalError, match="Only a severe"):
        reaction_acknowledge(reaction=mild, by=practitioner_profile.user)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ACKNOWLEDGE).count() == 1


def test_an_alert_not_yet_sent_when_the_reaction_is_acknowledged_is_not_sent(
    done_session, practitioner_profile
):
    reaction = report(done_session)
    reaction_acknowledge(reaction=reaction, by=practitioner_profile.user)
    with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
        dispatch_in_process()
    assert mail.outbox == []
    assert alerts()["doctor"].status == Status.CANCELLED


def test_the_outbox_lists_the_alert_but_the_patient_s_messages_and_the_desk_do_not_see_it(
    done_session, practitioner_profile, front_desk, manager
):
    report(done_session)
    row = alerts()["doctor"]
    with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
        outbox = manager.get(reverse("messaging:outbox") + "?status=pending").content.decode()
        desk_outbox = front_desk.get(reverse("messaging:outbox") + "?status=pending")
        patient_page = front_desk.get(
            reverse("messaging:patient_messages", args=[done_session.patient_id])
        )
        desk_detail = front_desk.get(reverse("messaging:message_detail", args=[row.pk]))
        manager_detail = manager.get(reverse("messaging:message_detail", args=[row.pk]))
    assert "Severe reaction alert" in outbox and "Jane Doe" in outbox
    assert "Severe reaction alert" in desk_outbox.content.decode()
    assert "Jane Doe" not in desk_outbox.content.decode()
    assert "Severe reaction alert" not in patient_page.content.decode()
    assert "Jane Doe" not in desk_detail.content.decode()
    assert "only clinical staff can read it" in desk_detail.content.decode()
    assert "Jane Doe" in manager_detail.content.decode()


def test_the_patient_s_data_export_holds_the_reaction_but_not_the_staff_alerts(
    done_session, practitioner_profile
):
    reaction = report(done_session)
    data = patient_export_read(patient=done_session.patient).data
    assert [r["id"] for r in data["reactions"]] == [reaction.pk]
    assert OutboxMessage.objects.filter(kind=Kind.SEVERE_REACTION_ALERT).count() == 1
    assert Kind.SEVERE_REACTION_ALERT not in {m["kind"] for m in data["messages"]}
