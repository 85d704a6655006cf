"""The waiting list: freed time offered in batches, in join order, under a frozen clock; the
offer link accepted, declined, expired, reused or tampered with; the next batch after expiry."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from mesoclinic.errors import DomainError
from patients.tests.factories import PatientFactory
from treatments.messaging.models import Kind, OutboxMessage, Status
from treatments.messaging.render import message_email
from treatments.models import Session, WorkingException
from treatments.selectors import clinic_get
from treatments.services.booking import session_book, session_cancel, session_reschedule
from treatments.services.staff import working_exception_add, working_exception_remove
from treatments.tests.factories import SessionFactory
from treatments.waitlist import links
from treatments.waitlist.models import Entry, Offer, Release, WaitlistSettings
from treatments.waitlist.services import (
    Outcome,
    entry_add,
    entry_withdraw,
    offer_accept,
    offer_decline,
    offers_tick,
    settings_update,
)

from .conftest import DAY, LONDON, SLOT, wish

pytestmark = pytest.mark.django_db


def offer_rows(kind=Kind.WAITLIST_OFFER):
    return OutboxMessage.objects.filter(kind=kind).order_by("pk")


def test_a_cancelled_slot_is_offered_at_once_to_the_first_three_in_join_order(
    booked, waiting, frozen
):
    session_cancel(session=booked, reason="Patient unwell")

    offers = list(Offer.objects.order_by("pk"))
    assert [o.entry_id for o in offers] == [e.pk for e in waiting[:3]]
    assert {o.starts_at for o in offers} == {SLOT}
    assert {(o.practitioner_id, o.room_id) for o in offers} == {
        (booked.practitioner_id, booked.room_id)
    }
    assert all(o.batch == 1 and o.status == Offer.Status.OFFERED for o in offers)
    # Open two hours (the default), far before the slot's start minus the notice.
    assert {o.expires_at for o in offers} == {dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=2)}
    rows = list(offer_rows())
    assert [r.waitlist_offer_id for r in rows] == [o.pk for o in offers]
    assert all(r.status == Status.PENDING and r.patient_id is not None for r in rows)
    release = Release.objects.get()
    assert (release.starts_at, release.ends_at, release.batches) == (
        SLOT,
        booked.blocked_until,
        1,
    )


def test_a_cancel_that_rolls_back_offers_nothing(booked, waiting, monkeypatch):
    from treatments.booking_hooks import session_hooks

    def boom(session, change):
        raise RuntimeError("the reaction failed")

    monkeypatch.setitem(session_hooks._handlers, "messaging", boom)
    with pytest.raises(RuntimeError):
        session_cancel(session=booked, reason="Patient unwell")
    assert not Offer.objects.exists()
    assert not Release.objects.exists()


def test_the_offer_email_carries_a_link_that_shows_the_offer(booked, waiting, client):
    session_cancel(session=booked, reason="Patient unwell")
    row = offer_rows().first()
    email = message_email(row, clinic=clinic_get())
    assert "10:00" in email.subject and "Face" in email.subject
    url = re.search(r"https?://\S+/waitlist/offer/\S+/", email.body).group(0)
    page = client.get(url[url.index("/waitlist/") :])
    assert page.status_code == 200
    assert "Tuesday 3 June 2031 at 10:00" in page.content.decode()
    assert "Book this time" in page.content.decode()
    # Opening the link (a mail scanner does) books nothing.
    assert Offer.objects.filter(status=Offer.Status.OFFERED).count() == 3


def test_the_offer_email_says_why_it_was_sent_without_claiming_a_consent(booked, waiting):
    """An offer answers the patient's own request to be told: its footer says so (text and
    HTML), never that they agreed to reminder emails."""
    session_cancel(session=booked, reason="Patient unwell")
    email = message_email(offer_rows().first(), clinic=clinic_get())
    html = email.alternatives[0][0]
    for part in (email.body, html):
        assert "You asked to be told when a time like this is freed" in part
        assert "agreed to receive" not in part


def _token(offer):
    return links.offer_token(offer)


def test_the_first_to_accept_is_booked_and_the_others_see_just_taken(booked, waiting, client):
    session_cancel(session=booked, reason="Patient unwell")
    first, second, third = Offer.objects.order_by("pk")
    tokens = [_token(o) for o in (first, second, third)]

    won = client.post(reverse("waitlist:offer", args=[tokens[1]]), {"answer": "accept"})
    assert won.status_code == 200
    assert "You are booked" in won.content.decode()
    session = Session.objects.get(starts_at=SLOT, status=Session.Status.BOOKED)
    assert session.patient_id == second.entry.patient_id
    assert "waiting list" in session.notes
    second.refresh_from_db()
    assert (second.status, second.session_id) == (Offer.Status.ACCEPTED, session.pk)
    assert Entry.objects.get(pk=second.entry_id).status == Entry.Status.BOOKED
    # The others' offers close at once and their emails, if still waiting, are not sent.
    for other in (first, third):
        other.refresh_from_db()
        assert other.status == Offer.Status.TAKEN
        assert OutboxMessage.objects.get(waitlist_offer=other).status == Status.CANCELLED
    assert Release.objects.get().closed_at is not None

    late = client.post(reverse("waitlist:offer", args=[tokens[0]]), {"answer": "accept"})
    assert late.status_code == 410
    assert "no longer open" in late.content.decode()
    assert Session.objects.filter(starts_at=SLOT, status=Session.Status.BOOKED).count() == 1


def test_just_taken_offers_the_entrys_next_free_times_as_new_links(booked, waiting, client):
    session_cancel(session=booked, reason="Patient unwell")
    first, _, _ = Offer.objects.order_by("pk")
    # The desk books the slot for someone else before anyone accepts; the offers stay open
    # until the next tick (or an accept) sees it.
    session_book(
        patient=PatientFactory(),
        session_type=booked.session_type,
        practitioner=booked.practitioner,
        room=booked.room,
        starts_at=SLOT,
    )
    response = client.post(reverse("waitlist:offer", args=[_token(first)]), {"answer": "accept"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "That time was just taken" in page
    first.refresh_from_db()
    assert first.status == Offer.Status.TAKEN
    alternatives = Offer.objects.filter(entry=first.entry, release__isnull=True)
    assert alternatives.count() == 3
    assert all(a.status == Offer.Status.OFFERED for a in alternatives)
    hrefs = re.findall(r'href="(/waitlist/offer/[^"]+/)"', page)
    assert len(hrefs) == 3
    # A re-offer is a real offer: taking it books.
    booked_alt = client.post(hrefs[0], {"answer": "accept"})
    assert booked_alt.status_code == 200, booked_alt.content.decode()
    assert Entry.objects.get(pk=first.entry_id).status == Entry.Status.BOOKED
    # Its siblings close with it.
    assert not Offer.objects.filter(entry=first.entry, status=Offer.Status.OFFERED).exists()


def test_no_offer_for_a_slot_inside_the_notice_period(clinic, frozen, waiting, face, room):
    from treatments.models import StaffProfile

    practitioner = StaffProfile.objects.get()
    # Notice: 3 h. The session (with its clean-up) ends 3 h from now, less 4 minutes.
    soon = dt.datetime.now(tz=dt.UTC).replace(minute=0, second=0, microsecond=0)
    soon += dt.timedelta(hours=2)
    session = session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner,
        room=room,
        starts_at=soon,
    )
    assert soon - dt.datetime.now(tz=dt.UTC) < dt.timedelta(hours=3)
    for entry in waiting:
        entry.earliest = soon.astimezone(LONDON).date()
        entry.save()
    session_cancel(session=session, reason="Patient unwell")
    assert not Offer.objects.exists()
    assert not offer_rows().exists()
    # Freed time that runs past the notice offers only starts after it.
    later = session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner,
        room=room,
        starts_at=soon + dt.timedelta(hours=1),
    )
    session_cancel(session=later, reason="Patient unwell")
    notice_ends = dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=3)
    assert Offer.objects.exists()
    assert all(o.starts_at >= notice_ends for o in Offer.objects.all())


def test_an_offer_never_stays_open_past_the_start_minus_the_notice(
    clinic, frozen, waiting, face, room
):
    from treatments.models import StaffProfile

    practitioner = StaffProfile.objects.get()
    now = dt.datetime.now(tz=dt.UTC)
    start = (now + dt.timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    session = session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner,
        room=room,
        starts_at=start,
    )
    for entry in waiting:
        entry.earliest = start.astimezone(LONDON).date()
        entry.save()
    session_cancel(session=session, reason="Patient unwell")
    offers = list(Offer.objects.all())
    assert offers
    assert {o.expires_at for o in offers} == {start - dt.timedelta(hours=3)}
    assert all(o.expires_at < now + dt.timedelta(hours=2) for o in offers)


def test_offers_expire_and_the_next_batch_is_offered(booked, waiting, frozen):
    session_cancel(session=booked, reason="Patient unwell")
    first_batch = list(Offer.objects.order_by("pk"))
    expires = first_batch[0].expires_at

    frozen.move_to(expires - dt.timedelta(seconds=1))
    assert offers_tick()["expired"] == 0
    frozen.move_to(expires + dt.timedelta(minutes=1))
    counts = offers_tick()
    assert counts["expired"] == 3 and counts["offered"] == 1
    for offer in first_batch:
        offer.refresh_from_db()
        assert offer.status == Offer.Status.EXPIRED
        assert OutboxMessage.objects.get(waitlist_offer=offer).status == Status.CANCELLED
    second = Offer.objects.get(status=Offer.Status.OFFERED)
    assert (second.entry_id, second.batch, second.starts_at) == (waiting[3].pk, 2, SLOT)
    assert OutboxMessage.objects.get(waitlist_offer=second).status == Status.PENDING
    assert Release.objects.get().batches == 2

    # Run twice, one effect; and when the last batch expires with nobody left, it closes.
    assert offers_tick() == dict.fromkeys(counts, 0)
    frozen.move_to(second.expires_at + dt.timedelta(minutes=1))
    assert offers_tick()["expired"] == 1
    assert Release.objects.get().closed_because == "Nobody else waiting fits it."
    assert Offer.objects.count() == 4


def test_an_expired_link_changes_nothing(booked, waiting, frozen, client):
    session_cancel(session=booked, reason="Patient unwell")
    offer = Offer.objects.order_by("pk").first()
    token = _token(offer)
    frozen.move_to(offer.expires_at + dt.timedelta(seconds=1))
    url = reverse("waitlist:offer", args=[token])
    assert client.get(url).status_code == 400
    response = client.post(url, {"answer": "accept"})
    assert response.status_code == 400
    assert "no longer works" in response.content.decode()
    assert not Session.objects.filter(starts_at=SLOT, status=Session.Status.BOOKED).exists()


def test_a_tampered_link_changes_nothing(booked, waiting, client):
    session_cancel(session=booked, reason="Patient unwell")
    offer = Offer.objects.order_by("pk").first()
    token = _token(offer)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (forged, "eyJvIjoxfQ:forged:signature", links.offer_token(offer) + "x"):
        url = reverse("waitlist:offer", args=[bad])
        assert client.get(url).status_code == 400
        assert client.post(url, {"answer": "accept"}).status_code == 400
    # Another action's token (same payload shape) is refused too.
    from treatments.messaging.tokens import link_make

    other = link_make(action="confirm", payload={"o": offer.pk}, expires_at=offer.expires_at)
    assert client.post(reverse("waitlist:offer", args=[other])).status_code == 400
    assert not Session.objects.filter(starts_at=SLOT, status=Session.Status.BOOKED).exists()
    assert Offer.objects.filter(status=Offer.Status.OFFERED).count() == 3


def test_a_reused_link_changes_nothing(booked, waiting, client):
    session_cancel(session=booked, reason="Patient unwell")
    offer = Offer.objects.order_by("pk").first()
    url = reverse("waitlist:offer", args=[_token(offer)])
    assert client.post(url, {"answer": "accept"}).status_code == 200
    session = Session.objects.get(starts_at=SLOT, status=Session.Status.BOOKED)
    session_cancel(session=session, reason="Changed their mind")
    before = (Session.objects.count(), Offer.objects.count(), OutboxMessage.objects.count())
    again = client.post(url, {"answer": "accept"})
    assert again.status_code == 400
    assert (Session.objects.count(), Offer.objects.count(), OutboxMessage.objects.count()) == before
    assert offer_accept(token=_token(offer)).outcome == Outcome.INVALID


def test_declining_keeps_the_patient_waiting_and_a_declined_batch_moves_on(booked, waiting, client):
    session_cancel(session=booked, reason="Patient unwell")
    offers = list(Offer.objects.order_by("pk"))
    for offer in offers:
        result = offer_decline(token=_token(offer))
        assert result.outcome == Outcome.DECLINED
    assert all(
        e.status == Entry.Status.ACTIVE
        for e in Entry.objects.filter(pk__in=[w.pk for w in waiting])
    )
    assert offers_tick()["offered"] == 1
    assert Offer.objects.get(status=Offer.Status.OFFERED).entry_id == waiting[3].pk


def test_the_waiting_list_keeps_the_booking_rules(booked, waiting, face):
    held, busy = waiting[0].patient, waiting[1].patient
    held.booking_hold = True  # "do not book": never offered
    held.save()
    # The second patient is in another session (another practitioner, another room) at 10:00:
    # one patient, one session at a time, so they are offered a start beside it, not 10:00.
    SessionFactory(patient=busy, session_type=face, starts_at=SLOT)
    session_cancel(session=booked, reason="Patient unwell")
    offers = {o.entry_id: o.starts_at for o in Offer.objects.all()}
    assert waiting[0].pk not in offers
    assert offers[waiting[2].pk] == offers[waiting[3].pk] == SLOT
    theirs = offers[waiting[1].pk]
    assert theirs + face.duration <= SLOT or theirs >= SLOT + face.duration


def test_times_of_day_and_practitioner_are_respected(booked, frozen, face, therapist_profile):
    afternoon = entry_add(patient=PatientFactory(), wish=wish(face, mornings=False, evenings=False))
    frozen.shift(dt.timedelta(minutes=1))
    other = entry_add(
        patient=PatientFactory(),
        wish=wish(face, practitioner=None),
    )
    session_cancel(session=booked, reason="Patient unwell")
    assert list(Offer.objects.values_list("entry_id", flat=True)) == [other.pk]
    assert afternoon.fits_time_of_day(dt.time(12)) and not afternoon.fits_time_of_day(dt.time(10))


def test_moving_a_session_away_offers_its_old_time(booked, waiting):
    session_reschedule(session=booked, starts_at=SLOT + dt.timedelta(days=1))
    assert set(Offer.objects.values_list("starts_at", flat=True)) == {SLOT}
    assert Offer.objects.count() == 3


def test_removing_a_leave_offers_the_day(clinic, frozen, waiting, practitioner_profile, room):
    working_exception_add(staff=practitioner_profile, day=DAY, kind=WorkingException.Kind.LEAVE)
    assert not Offer.objects.exists()
    leave = WorkingException.objects.get()
    working_exception_remove(exception=leave)
    offers = list(Offer.objects.order_by("pk"))
    assert len(offers) == 3
    assert {o.starts_at.astimezone(LONDON).date() for o in offers} == {DAY}


def test_withdrawing_an_entry_withdraws_its_offers_and_cancels_their_emails(booked, waiting):
    session_cancel(session=booked, reason="Patient unwell")
    offer = Offer.objects.get(entry=waiting[0])
    entry_withdraw(entry=waiting[0])
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert OutboxMessage.objects.get(waitlist_offer=offer).status == Status.CANCELLED
    assert offer_accept(token=_token(offer)).outcome == Outcome.CLOSED
    with pytest.raises(DomainError, match="already withdrawn"):
        entry_withdraw(entry=waiting[0])


def test_the_desk_cannot_add_a_wish_twice_or_with_dates_backwards(clinic, frozen, face):
    patient = PatientFactory()
    entry_add(patient=patient, wish=wish(face))
    with pytest.raises(DomainError, match="already on the waiting list"):
        entry_add(patient=patient, wish=wish(face))
    with pytest.raises(DomainError, match="on or before"):
        entry_add(
            patient=PatientFactory(),
            wish=wish(face, earliest=DAY, latest=DAY - dt.timedelta(days=1)),
        )
    with pytest.raises(DomainError, match="no email address"):
        entry_add(patient=PatientFactory(email=""), wish=wish(face))
    with pytest.raises(DomainError, match="time of day"):
        entry_add(
            patient=PatientFactory(),
            wish=wish(face, mornings=False, afternoons=False, evenings=False),
        )


def test_the_settings_change_the_batch_and_the_lifetime(booked, waiting):
    settings_update(batch_size=1, offer_minutes=30, notice_minutes=60)
    session_cancel(session=booked, reason="Patient unwell")
    offer = Offer.objects.get()
    assert offer.entry_id == waiting[0].pk
    assert offer.expires_at == offer.created_at + dt.timedelta(minutes=30)
    assert WaitlistSettings.objects.get().batch_size == 1


def test_entries_past_their_last_day_expire(clinic, frozen, face):
    entry = entry_add(patient=PatientFactory(), wish=wish(face, latest=DAY))
    frozen.move_to(dt.datetime(2031, 6, 4, 0, 30, tzinfo=dt.UTC))  # 01:30 on the 4th in London
    assert offers_tick()["entries_expired"] == 1
    entry.refresh_from_db()
    assert entry.status == Entry.Status.EXPIRED


def test_the_offer_is_sent_by_the_dispatcher_once(booked, waiting, settings):
    from treatments.messaging.dispatch import dispatch_in_process

    session_cancel(session=booked, reason="Patient unwell")
    mail.outbox.clear()
    dispatch_in_process()
    dispatch_in_process()
    offers_sent = [m for m in mail.outbox if "is free on" in m.subject]
    assert len(offers_sent) == 3
    assert sorted(m.to[0] for m in offers_sent) == sorted(e.patient.email for e in waiting[:3])


def test_an_offer_whose_slot_the_desk_booked_is_not_sent_and_the_tick_closes_it(booked, waiting):
    from treatments.messaging.dispatch import dispatch_in_process

    session_cancel(session=booked, reason="Patient unwell")
    session_book(
        patient=PatientFactory(),
        session_type=booked.session_type,
        practitioner=booked.practitioner,
        room=booked.room,
        starts_at=SLOT,
    )
    first = Offer.objects.order_by("pk").first()
    page = Client().get(reverse("waitlist:offer", args=[_token(first)]))
    assert page.status_code == 410
    assert "Someone else took this time" in page.content.decode()
    mail.outbox.clear()
    dispatch_in_process()
    assert not [m for m in mail.outbox if "is free on" in m.subject]
    assert set(offer_rows().values_list("status", flat=True)) == {Status.CANCELLED}
    counts = offers_tick()
    assert counts["taken"] == 3
    assert set(Offer.objects.values_list("status", flat=True)) == {Offer.Status.TAKEN}
    assert offers_tick()["taken"] == 0


def test_extra_hours_are_offered_too(clinic, frozen, waiting, room):
    from treatments.tests.factories import StaffProfileFactory

    evening_only = StaffProfileFactory(hours=False)
    working_exception_add(
        staff=evening_only,
        day=DAY,
        kind=WorkingException.Kind.EXTRA,
        starts=dt.time(17),
        ends=dt.time(19),
    )
    offers = list(Offer.objects.all())
    assert len(offers) == 3
    assert {o.practitioner_id for o in offers} == {evening_only.pk}
    assert all(o.starts_at.astimezone(LONDON).time() >= dt.time(17) for o in offers)


def _cancel_queries(session) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        session_cancel(session=session, reason="Patient unwell")
    return len(queries)


def test_a_cancel_costs_the_same_queries_however_many_wait_for_something_else(
    clinic, frozen, face, practitioner_profile, room
):
    def book_and_wait(n, hour):
        start = SLOT + dt.timedelta(hours=hour)
        session = session_book(
            patient=PatientFactory(),
            session_type=face,
            practitioner=practitioner_profile,
            room=room,
            starts_at=start,
        )
        for _ in range(n):
            frozen.shift(dt.timedelta(seconds=1))
            entry_add(patient=PatientFactory(), wish=wish(face, mornings=False, afternoons=False))
        return session

    WaitlistSettings.objects.get_or_create(pk=1)
    few = _cancel_queries(book_and_wait(3, 0))
    many = _cancel_queries(book_and_wait(40, 1))
    assert not Offer.objects.exists()  # they all wait for evenings
    assert many == few


def _search_queries(entry) -> tuple[int, list]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from treatments.waitlist.selectors import slots_for_entry

    start = SLOT - dt.timedelta(hours=3)
    with CaptureQueriesContext(connection) as queries:
        slots = slots_for_entry(
            entry=entry, first_day=DAY, last_day=DAY, earliest_start=start, zone=LONDON
        )
    return len(queries), slots


def test_the_patient_rule_costs_the_same_queries_however_many_starts_it_refuses(
    clinic, frozen, face, practitioner_profile, room
):
    free = entry_add(patient=PatientFactory(), wish=wish(face))
    frozen.shift(dt.timedelta(minutes=1))
    busy = entry_add(patient=PatientFactory(), wish=wish(face))
    # The busy patient is in sessions all morning (elsewhere): every start then is refused.
    morning = SLOT - dt.timedelta(hours=3)
    for n in range(8):
        SessionFactory(
            patient=busy.patient, session_type=face, starts_at=morning + n * face.duration
        )
    few, free_slots = _search_queries(free)
    many, busy_slots = _search_queries(busy)
    assert free_slots and busy_slots
    assert busy_slots[0].starts_at >= morning + 8 * face.duration
    assert busy_slots[0].starts_at > free_slots[0].starts_at
    assert many == few
