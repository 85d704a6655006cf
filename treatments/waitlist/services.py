"""Writes for the waiting list.

Freed time (booking_hooks.freed_hooks: a cancel, a move away, a no-show, a leave removed, extra
hours) becomes a `Release` in the freeing write's own transaction, and its first batch of offers
goes out at once: the first `batch_size` active entries, in the order they joined, for which the
availability engine finds a start that uses the freed time, each get one `Offer` and one outbox
email with a signed, single-use link. No offer is made for a start closer than the notice
period, and none stays open past the start minus that notice.

Accepting books through the booking service (`session_book`, or the course services for a
course step), whose locks, re-check and exclusion constraints are the only no-double-booking
guarantee: this module adds none of its own. Several patients hold offers for one slot; the
first to accept gets it, the others' `session_book` says "just taken", and they are shown the
next free times for their entry as new offers. Locks: the entry row, then the offer row, then
the booking's own (patient, practitioners, rooms); the tick and the closing of other offers
after a booking skip rows someone is accepting (SKIP LOCKED), so no two paths wait in a cycle.

`offers_tick` (Celery beat, and `make run`'s in-process loop) expires offers, closes those whose
slot was booked meanwhile, expires entries past their last date, and sends a freed slot's next
batch once the previous one has all expired or been declined. Safe to run twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.errors import BookingHeld, DomainError, NotBookable, SlotTaken
from patients.models import Patient
from treatments.availability import Offer as FreeStart
from treatments.booking_hooks import FreedTime
from treatments.courses.models import Course
from treatments.courses.planner import step_active_session
from treatments.courses.services import course_step_book_from_calendar
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.messaging.outbox import message_schedule, messages_close
from treatments.messaging.tokens import LinkError, link_read, link_use
from treatments.models import OnlineBooking, Room, Session, SessionType, StaffProfile
from treatments.online.selectors import patient_for_online
from treatments.selectors import LONGEST_HELD_SLOT, clinic_get, clinic_zone, rooms_active
from treatments.services.booking import (
    HELD,
    booking_parties_check,
    session_book,
    session_reschedule,
)

from . import links
from .models import Entry, Offer, Release, WaitlistSettings
from .selectors import (
    ALTERNATIVES_DAYS,
    Freed,
    Slot,
    bookable_staff,
    offer_get,
    offer_slot_free,
    slots_for_entry,
    waitlist_settings,
)

log = logging.getLogger(__name__)

JOIN_LINK_MINUTES = 30
BOOKED_NOTE = "Booked from the waiting list."


class Outcome:
    BOOKED = "booked"
    TAKEN = "taken"  # someone else was quicker: the next free times are offered
    DECLINED = "declined"
    CLOSED = "closed"  # the offer no longer stands (expired, withdrawn, the entry closed)
    CALL = "call"  # neutral: a hold, an unmatched patient, anything the desk must sort out
    JOINED = "joined"
    INVALID = "invalid"


@dataclass
class OfferResult:
    outcome: str
    offer: Offer | None = None
    session: Session | None = None
    # New offers for the entry's next free times, with their links' tokens.
    alternatives: list[tuple[Offer, str]] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class Wish:
    """What a patient waits for."""

    session_type: SessionType
    practitioner: StaffProfile | None
    earliest: date
    latest: date
    mornings: bool = True
    afternoons: bool = True
    evenings: bool = True


# --- entries ----------------------------------------------------------------------------------


def _today() -> date:
    return timezone.now().astimezone(clinic_zone()).date()


def _check_wish(wish: Wish) -> None:
    if wish.earliest > wish.latest:
        raise DomainError("The earliest date must be on or before the latest.", field="latest")
    if wish.latest < _today():
        raise DomainError("The latest date has passed; choose a later one.", field="latest")
    if wish.latest > _today() + timedelta(days=366):
        raise DomainError("Choose a latest date within a year.", field="latest")
    if not (wish.mornings or wish.afternoons or wish.evenings):
        raise DomainError("Choose at least one time of day.", field="mornings")
    if not wish.session_type.active:
        raise DomainError("This session type is no longer offered.", field="session_type")
    if wish.practitioner is not None:
        booking_parties_check(
            session_type=wish.session_type, practitioner=wish.practitioner, room=None
        )


def entry_add(
    *,
    patient: Patient,
    wish: Wish,
    course: Course | None = None,
    step_number: int | None = None,
    note: str = "",
    by: User | None = None,
    now: datetime | None = None,
) -> Entry:
    """The desk puts a patient on the waiting list (or a course step: an earlier slot inside
    the step's window)."""
    now = now or timezone.now()
    _check_wish(wish)
    if patient.booking_hold:
        raise BookingHeld(HELD.format(patient=patient.full_name), field="patient")
    if not patient.email:
        raise DomainError(
            f"{patient.full_name} has no email address: offers are sent by email. Add one to "
            "their details first.",
            field="patient",
        )
    if course is not None:
        if course.patient_id != patient.pk:
            raise DomainError("That course belongs to another patient.", field="course")
        if course.status != Course.Status.ACTIVE:
            raise DomainError("That course is not active.", field="course")
        if step_number is None or not 1 <= step_number <= course.sessions_count:
            raise DomainError(
                f"Choose a session from 1 to {course.sessions_count} of the course.",
                field="step_number",
            )
        if wish.session_type.pk != course.session_type_id:
            raise DomainError(
                f"The course's sessions are {course.session_type}.", field="session_type"
            )
    with transaction.atomic():
        # The patient row serialises two desks adding the same wish at once.
        Patient.objects.select_for_update(no_key=True, of=("self",)).filter(pk=patient.pk).get()
        duplicate = Entry.objects.filter(
            patient=patient,
            session_type=wish.session_type,
            course=course,
            status__in=(Entry.Status.ACTIVE, Entry.Status.AWAITING_EMAIL),
        ).first()
        if duplicate is not None:
            since = duplicate.joined_at.astimezone(clinic_zone())
            raise DomainError(
                f"{patient.full_name} is already on the waiting list for "
                f"{wish.session_type} (since {since:%d %b}).",
                field="session_type",
            )
        return Entry.objects.create(
            patient=patient,
            session_type=wish.session_type,
            practitioner=wish.practitioner,
            earliest=max(wish.earliest, _today()),
            latest=wish.latest,
            mornings=wish.mornings,
            afternoons=wish.afternoons,
            evenings=wish.evenings,
            course=course,
            step_number=step_number if course is not None else None,
            note=note.strip()[:300],
            added_by=by if getattr(by, "pk", None) else None,
            joined_at=now,
        )


def _close_offers(offers: list[Offer], *, status: str, outcome: str, now: datetime) -> None:
    for offer in offers:
        offer.status, offer.outcome, offer.decided_at = status, outcome[:300], now
        offer.save(update_fields=["status", "outcome", "decided_at"])
    if offers:
        # The email of an offer that no longer stands is not sent (if it is still waiting).
        messages_close(
            OutboxMessage.objects.filter(waitlist_offer__in=[o.pk for o in offers]),
            status=Status.CANCELLED,
            code=Reason.NOT_APPLICABLE,
            reason=outcome,
        )


def entry_withdraw(*, entry: Entry, by: User | None = None, now: datetime | None = None) -> Entry:
    now = now or timezone.now()
    with transaction.atomic():
        locked = Entry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
        if locked.status not in (Entry.Status.ACTIVE, Entry.Status.AWAITING_EMAIL):
            raise DomainError(
                f"This entry is already {locked.get_status_display().lower()}; nothing to do."
            )
        locked.status, locked.closed_at = Entry.Status.WITHDRAWN, now
        locked.save(update_fields=["status", "closed_at"])
        _close_offers(
            list(locked.offers.select_for_update(of=("self",)).filter(status=Offer.Status.OFFERED)),
            status=Offer.Status.WITHDRAWN,
            outcome="Taken off the waiting list.",
            now=now,
        )
        messages_close(
            OutboxMessage.objects.filter(waitlist_entry=locked),
            status=Status.CANCELLED,
            code=Reason.NOT_APPLICABLE,
            reason="Taken off the waiting list.",
        )
    return locked


# --- the patient joins from the booking page ----------------------------------------------------


def entry_request_online(
    *, wish: Wish, email: str, date_of_birth: date, now: datetime | None = None
) -> Entry:
    """Store the request and email a confirmation link to the address typed, whether or not it
    is a patient's: the page and the mail server see the same either way (the online booking's
    rule). The patient is matched when the link is clicked."""
    now = now or timezone.now()
    if clinic_get().online_booking == OnlineBooking.OFF:
        raise DomainError("Online booking is not available. Please call the clinic.")
    if not wish.session_type.bookable_online:
        raise DomainError("This session type cannot be booked online.", field="session_type")
    _check_wish(wish)
    with transaction.atomic():
        entry = Entry.objects.create(
            status=Entry.Status.AWAITING_EMAIL,
            session_type=wish.session_type,
            practitioner=wish.practitioner,
            earliest=max(wish.earliest, _today()),
            latest=wish.latest,
            mornings=wish.mornings,
            afternoons=wish.afternoons,
            evenings=wish.evenings,
            added_online=True,
            email=email.strip(),
            date_of_birth=date_of_birth,
            verify_expires_at=now + timedelta(minutes=JOIN_LINK_MINUTES),
            joined_at=now,
        )
        message_schedule(
            kind=Kind.WAITLIST_JOIN,
            patient=None,
            due_at=now,
            expires_at=entry.verify_expires_at or now,
            waitlist_entry_id=entry.pk,
            to_email=entry.email,
            now=now,
        )
    return entry


def join_link_valid(*, token: str) -> bool:
    try:
        link_read(action=links.JOIN, token=token)
    except LinkError:
        return False
    return True


def entry_join_confirm(*, token: str, now: datetime | None = None) -> OfferResult:
    """The patient clicked the emailed link: a known patient joins the list (in the order of
    this moment); anyone else gets the neutral "please call". A bad, expired or used link
    changes nothing."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            payload = link_use(action=links.JOIN, token=token, now=now)
            pk = payload.get("w")
            if not isinstance(pk, int):
                raise LinkError()
            entry = (
                Entry.objects.select_for_update(of=("self",))
                .filter(pk=pk, status=Entry.Status.AWAITING_EMAIL)
                .first()
            )
            if entry is None or entry.date_of_birth is None:
                raise LinkError()
            patient = patient_for_online(email=entry.email, date_of_birth=entry.date_of_birth)
            if patient is None or patient.booking_hold:
                entry.status, entry.closed_at = Entry.Status.WITHDRAWN, now
                entry.note = "Not joined: no matching patient, or the patient must call."
                entry.save(update_fields=["status", "closed_at", "note"])
                return OfferResult(outcome=Outcome.CALL)
            entry.patient, entry.status, entry.joined_at = patient, Entry.Status.ACTIVE, now
            entry.save(update_fields=["patient", "status", "joined_at"])
            # The confirmation email now shows on the patient's messages page.
            OutboxMessage.objects.filter(waitlist_entry=entry, patient__isnull=True).update(
                patient=patient
            )
            return OfferResult(outcome=Outcome.JOINED)
    except LinkError:
        return OfferResult(outcome=Outcome.INVALID)


# --- freed time and batches -------------------------------------------------------------------


def _notice(cfg: WaitlistSettings) -> timedelta:
    return timedelta(minutes=cfg.notice_minutes)


def _offer_make(
    *,
    entry: Entry,
    slot: Slot,
    release: Release | None,
    batch: int,
    cfg: WaitlistSettings,
    now: datetime,
    email: bool = True,
) -> Offer | None:
    # Open for the settings' lifetime, never past the start minus the notice period.
    expires_at = min(now + timedelta(minutes=cfg.offer_minutes), slot.starts_at - _notice(cfg))
    if expires_at <= now:
        return None
    if entry.offers.filter(status=Offer.Status.OFFERED, starts_at=slot.starts_at).exists():
        return None
    offer = Offer.objects.create(
        entry=entry,
        release=release,
        batch=batch,
        starts_at=slot.starts_at,
        practitioner_id=slot.practitioner_id,
        room_id=slot.room_id,
        session_type=entry.session_type,
        created_at=now,
        expires_at=expires_at,
    )
    if email:
        message_schedule(
            kind=Kind.WAITLIST_OFFER,
            patient=entry.patient,
            due_at=now,
            expires_at=expires_at,
            waitlist_offer_id=offer.pk,
            now=now,
        )
    return offer


def _close_release(release: Release, because: str, now: datetime) -> None:
    release.closed_at, release.closed_because = now, because[:100]
    release.save(update_fields=["closed_at", "closed_because"])


def release_offer_next_batch(
    *, release: Release, now: datetime | None = None, cfg: WaitlistSettings | None = None
) -> list[Offer]:
    """Offer the freed time to the next batch: entries not offered it yet and holding no open
    offer, in the order they joined. Closes the release when nobody else fits."""
    now = now or timezone.now()
    cfg = cfg or waitlist_settings()
    zone = clinic_zone()
    earliest_start = now + _notice(cfg)
    if release.ends_at <= earliest_start:
        _close_release(release, "Too close to its start.", now)
        return []
    freed = Freed(
        practitioner_id=release.practitioner_id,
        room_id=release.room_id,
        starts_at=release.starts_at,
        ends_at=release.ends_at,
    )
    first_day = max(release.starts_at, earliest_start).astimezone(zone).date()
    last_day = release.ends_at.astimezone(zone).date()
    offered_it = Offer.objects.filter(release=release).values("entry_id")
    holding = Offer.objects.filter(status=Offer.Status.OFFERED, expires_at__gt=now).values(
        "entry_id"
    )
    entries = (
        Entry.objects.filter(
            status=Entry.Status.ACTIVE, earliest__lte=last_day, latest__gte=first_day
        )
        .exclude(pk__in=offered_it)
        .exclude(pk__in=holding)
        .select_related("patient", "session_type", "course")
        .order_by("joined_at", "pk")
    )
    rooms = list(rooms_active())
    staff = bookable_staff()
    cache: dict[tuple[int, int | None, date, date], list[FreeStart]] = {}
    batch = release.batches + 1
    made: list[Offer] = []
    for entry in entries:
        slots = slots_for_entry(
            entry=entry,
            first_day=first_day,
            last_day=last_day,
            earliest_start=earliest_start,
            zone=zone,
            rooms=rooms,
            staff=staff,
            freed=freed,
            cache=cache,
        )
        offer = (
            _offer_make(entry=entry, slot=slots[0], release=release, batch=batch, cfg=cfg, now=now)
            if slots
            else None
        )
        if offer is not None:
            made.append(offer)
            if len(made) >= cfg.batch_size:
                break
    if made:
        release.batches = batch
        release.save(update_fields=["batches"])
    else:
        _close_release(
            release,
            "Nobody waiting fits it." if batch == 1 else "Nobody else waiting fits it.",
            now,
        )
    return made


def on_time_freed(freed: FreedTime) -> None:
    """booking_hooks.freed_hooks' "waitlist" slot: offer the freed time at once, in the freeing
    write's transaction (a cancel that rolls back offers nothing)."""
    if not Entry.objects.filter(status=Entry.Status.ACTIVE).exists():
        return  # the common case, first: one query on every cancel while nobody waits
    now = timezone.now()
    cfg = waitlist_settings()
    if freed.ends_at <= now + _notice(cfg):
        return  # a no-show, or time too close to offer: nothing can be offered
    release = Release.objects.create(
        practitioner_id=freed.practitioner_id,
        room_id=freed.room_id,
        starts_at=max(freed.starts_at, now),
        ends_at=freed.ends_at,
        created_at=now,
    )
    release_offer_next_batch(release=release, now=now, cfg=cfg)


# --- the patient's answer -----------------------------------------------------------------------


def offer_link_valid(*, token: str) -> Offer | None:
    """The offer a valid, unexpired, unused link names (for the page that shows it)."""
    try:
        payload = link_read(action=links.OFFER, token=token)
    except LinkError:
        return None
    pk = payload.get("o")
    return offer_get(pk=pk) if isinstance(pk, int) else None


def _book(entry: Entry, offer: Offer) -> Session:
    practitioner = StaffProfile.objects.select_related("user").get(pk=offer.practitioner_id)
    room = Room.objects.get(pk=offer.room_id)
    patient = entry.patient
    if patient is None:
        raise DomainError("This entry has no patient.")
    if entry.course_id is not None and entry.step_number is not None:
        course = Course.objects.get(pk=entry.course_id)
        step = course.steps.select_related("session").filter(number=entry.step_number).first()
        current = step_active_session(step) if step is not None else None
        if current is not None:
            # The step is booked later in its window: move it to the earlier slot (its old time
            # is freed and offered in turn).
            return session_reschedule(
                session=current, starts_at=offer.starts_at, practitioner=practitioner, room=room
            )
        return course_step_book_from_calendar(
            course=course,
            step_number=entry.step_number,
            patient=patient,
            session_type=offer.session_type,
            practitioner=practitioner,
            room=room,
            starts_at=offer.starts_at,
            notes=f"{course.desk_label(entry.step_number)}. {BOOKED_NOTE}"[:500],
        ).session
    return session_book(
        patient=patient,
        session_type=offer.session_type,
        practitioner=practitioner,
        room=room,
        starts_at=offer.starts_at,
        notes=BOOKED_NOTE,
    )


def _alternatives(entry: Entry, now: datetime) -> list[tuple[Offer, str]]:
    """The entry's next free times, as new offers shown on the page (no email)."""
    cfg = waitlist_settings()
    zone = clinic_zone()
    earliest_start = now + _notice(cfg)
    slots = slots_for_entry(
        entry=entry,
        first_day=earliest_start.astimezone(zone).date(),
        last_day=min(entry.latest, _today() + timedelta(days=ALTERNATIVES_DAYS)),
        earliest_start=earliest_start,
        zone=zone,
        limit=3,
    )
    made = []
    for slot in slots:
        offer = _offer_make(
            entry=entry, slot=slot, release=None, batch=0, cfg=cfg, now=now, email=False
        )
        if offer is not None:
            made.append((offer, links.offer_token(offer)))
    return made


def _locked_offer(token: str, now: datetime) -> tuple[Entry, Offer]:
    """Check the link, lock the entry then the offer (the fixed order), and use the link."""
    payload = link_read(action=links.OFFER, token=token, now=now)
    pk = payload.get("o")
    offer = Offer.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if offer is None:
        raise LinkError()
    entry = (
        Entry.objects.select_for_update(of=("self",))
        .select_related("patient", "session_type", "course")
        .get(pk=offer.entry_id)
    )
    locked = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("practitioner__user", "room", "session_type")
        .get(pk=offer.pk)
    )
    link_use(action=links.OFFER, token=token, now=now)
    return entry, locked


def _not_open(entry: Entry, offer: Offer, now: datetime) -> OfferResult | None:
    if offer.status == Offer.Status.OFFERED and offer.expires_at <= now:
        _close_offers([offer], status=Offer.Status.EXPIRED, outcome="Expired.", now=now)
    if offer.status != Offer.Status.OFFERED or entry.status != Entry.Status.ACTIVE:
        return OfferResult(outcome=Outcome.CLOSED, offer=offer)
    return None


def offer_accept(*, token: str, now: datetime | None = None) -> OfferResult:
    """The patient takes the offered slot. A bad, expired or used link changes nothing."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            entry, offer = _locked_offer(token, now)
            closed = _not_open(entry, offer, now)
            if closed is not None:
                return closed
            try:
                session = _book(entry, offer)
            except BookingHeld:
                _close_offers(
                    [offer], status=Offer.Status.WITHDRAWN, outcome="Do not book.", now=now
                )
                return OfferResult(outcome=Outcome.CALL, offer=offer)
            except (SlotTaken, NotBookable):
                _close_offers(
                    [offer],
                    status=Offer.Status.TAKEN,
                    outcome="Just taken by someone else.",
                    now=now,
                )
                return OfferResult(
                    outcome=Outcome.TAKEN, offer=offer, alternatives=_alternatives(entry, now)
                )
            except DomainError as err:
                _close_offers([offer], status=Offer.Status.WITHDRAWN, outcome=err.message, now=now)
                return OfferResult(outcome=Outcome.CALL, offer=offer)
            offer.status, offer.decided_at, offer.session = Offer.Status.ACCEPTED, now, session
            offer.outcome = "Accepted and booked."
            offer.save(update_fields=["status", "decided_at", "session", "outcome"])
            entry.status, entry.closed_at, entry.session = Entry.Status.BOOKED, now, session
            entry.save(update_fields=["status", "closed_at", "session"])
            _close_offers(
                list(
                    entry.offers.select_for_update(of=("self",), skip_locked=True).filter(
                        status=Offer.Status.OFFERED
                    )
                ),
                status=Offer.Status.WITHDRAWN,
                outcome="The patient took another offer.",
                now=now,
            )
            if offer.release_id is not None:
                Release.objects.filter(pk=offer.release_id, closed_at__isnull=True).update(
                    closed_at=now, closed_because="Booked from the waiting list."
                )
    except LinkError:
        return OfferResult(outcome=Outcome.INVALID)
    # After the commit, in a transaction of its own: the other patients' offers for this time
    # are closed (their emails cancelled if not sent yet). One being accepted right now is
    # skipped: that patient's booking is refused and closes it.
    offers_close_taken(session=session, now=now)
    return OfferResult(outcome=Outcome.BOOKED, offer=offer, session=session)


def offer_decline(*, token: str, now: datetime | None = None) -> OfferResult:
    """ "Not this time": the offer closes, the patient stays on the list."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            entry, offer = _locked_offer(token, now)
            closed = _not_open(entry, offer, now)
            if closed is not None:
                return closed
            _close_offers([offer], status=Offer.Status.DECLINED, outcome="Declined.", now=now)
    except LinkError:
        return OfferResult(outcome=Outcome.INVALID)
    return OfferResult(outcome=Outcome.DECLINED, offer=offer)


def offers_close_taken(*, session: Session, now: datetime | None = None) -> int:
    """Close the open offers whose slot `session` now holds (practitioner, room or patient)."""
    now = now or timezone.now()
    with transaction.atomic():
        nearby = list(
            Offer.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                status=Offer.Status.OFFERED,
                starts_at__lt=session.blocked_until,
                starts_at__gt=session.starts_at - LONGEST_HELD_SLOT,
            )
            .select_related("entry", "session_type")
        )
        taken = [offer for offer in nearby if not offer_slot_free(offer)]
        _close_offers(taken, status=Offer.Status.TAKEN, outcome="Booked for someone else.", now=now)
    return len(taken)


# --- the periodic tick ---------------------------------------------------------------------------


def offers_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Expire offers and entries, close offers whose slot was booked meanwhile, and send each
    open release's next batch once its last batch has no open offer. Each step claims its rows
    with SKIP LOCKED, so two ticks (or a tick and a patient's click) never act twice."""
    now = now or timezone.now()
    counts = {"expired": 0, "taken": 0, "entries_expired": 0, "offered": 0, "closed": 0}
    with transaction.atomic():
        due = list(
            Offer.objects.select_for_update(of=("self",), skip_locked=True).filter(
                status=Offer.Status.OFFERED, expires_at__lte=now
            )
        )
        _close_offers(due, status=Offer.Status.EXPIRED, outcome="Expired unanswered.", now=now)
        counts["expired"] = len(due)
    with transaction.atomic():
        open_offers = list(
            Offer.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(status=Offer.Status.OFFERED)
            .select_related("entry", "session_type")
        )
        taken = [offer for offer in open_offers if not offer_slot_free(offer)]
        _close_offers(taken, status=Offer.Status.TAKEN, outcome="Booked meanwhile.", now=now)
        counts["taken"] = len(taken)
    with transaction.atomic():
        past = list(
            Entry.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                status__in=(Entry.Status.ACTIVE, Entry.Status.AWAITING_EMAIL),
                latest__lt=now.astimezone(clinic_zone()).date(),
            )
            .values_list("pk", flat=True)
        )
        Entry.objects.filter(pk__in=past).update(status=Entry.Status.EXPIRED, closed_at=now)
        Entry.objects.filter(status=Entry.Status.AWAITING_EMAIL, verify_expires_at__lte=now).update(
            status=Entry.Status.EXPIRED, closed_at=now
        )
        counts["entries_expired"] = len(past)
    cfg = waitlist_settings()
    for pk in Release.objects.filter(closed_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            release = (
                Release.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk=pk, closed_at__isnull=True)
                .first()
            )
            if release is None:
                continue
            offers = release.offers.values_list("status", flat=True)
            if Offer.Status.ACCEPTED in offers:
                _close_release(release, "Booked from the waiting list.", now)
                counts["closed"] += 1
            elif Offer.Status.OFFERED not in offers:
                made = release_offer_next_batch(release=release, now=now, cfg=cfg)
                counts["offered"] += len(made)
                counts["closed"] += 0 if made else 1
    if any(counts.values()):
        log.info("waiting list tick: %s", counts)
    return counts


def settings_update(
    *, batch_size: int, offer_minutes: int, notice_minutes: int
) -> WaitlistSettings:
    found, _ = WaitlistSettings.objects.update_or_create(
        pk=1,
        defaults={
            "batch_size": batch_size,
            "offer_minutes": offer_minutes,
            "notice_minutes": notice_minutes,
        },
    )
    return found
