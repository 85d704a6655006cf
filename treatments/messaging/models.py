"""The outbox: every patient email is a row with a due time, claimed and sent by the dispatcher.

Scheduled mail lives in the database, never in Celery `eta`/`countdown` (Redis redelivers long
eta tasks after its visibility timeout and loses them across restarts: celery #9882, kombu #533).
The row is created in the same transaction as the event that causes it, so a booking that rolls
back leaves no confirmation behind, and a cancel that commits always cancels its reminders.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation"
    CANCELLATION = "cancellation", "Cancellation notice"
    PREPARATION = "preparation", "Preparation"
    REMINDER = "reminder", "Day-before reminder"
    AFTERCARE_24H = "aftercare_24h", "Aftercare, 24 h"
    AFTERCARE_48H = "aftercare_48h", "Aftercare, 48 h"
    FOLLOW_UP = "follow_up", "Follow-up nudge"
    FOLLOW_UP_AGAIN = "follow_up_again", "Follow-up nudge, second"
    MAINTENANCE = "maintenance", "Maintenance nudge"
    COURSE_COMPLETED = "course_completed", "Course completed"
    SEVERE_REACTION_ALERT = "severe_reaction_alert", "Severe reaction alert (to staff)"
    ONLINE_VERIFY = "online_verify", "Online booking: confirm your email"
    ONLINE_RECEIVED = "online_received", "Online booking: request received"
    ONLINE_APPROVED = "online_approved", "Online booking: approved"
    ONLINE_DECLINED = "online_declined", "Online booking: declined"
    QUESTIONNAIRE = "questionnaire", "Health questionnaire before the visit"
    QUESTIONNAIRE_ALERT = "questionnaire_alert", "Questionnaire alert (to staff)"
    WAITLIST_JOIN = "waitlist_join", "Waiting list: confirm your email"
    WAITLIST_OFFER = "waitlist_offer", "Waiting list: a slot is free"


# Care messages need consent to email reminders; nudges need marketing consent. Aftercare is
# care: a marketing opt-out never stops it (DOMAIN.md, "Messages the patient receives").
CARE_KINDS = frozenset(
    {
        Kind.CONFIRMATION,
        Kind.CANCELLATION,
        Kind.PREPARATION,
        Kind.REMINDER,
        Kind.AFTERCARE_24H,
        Kind.AFTERCARE_48H,
        Kind.COURSE_COMPLETED,
        # The health questionnaire is part of preparing the visit (DOMAIN.md): care.
        Kind.QUESTIONNAIRE,
    }
)
NUDGE_KINDS = frozenset({Kind.FOLLOW_UP, Kind.FOLLOW_UP_AGAIN, Kind.MAINTENANCE})
# Answers to what the person asked for on the public booking page, sent to the address they
# gave (`to_email`), which may not be a patient's yet: no consent gate, no patient needed.
# A session's first confirmation is such an answer too when an online request booked it
# (OutboxMessage.booking_request set on a CONFIRMATION row: see outbox.message_answer_request).
ONLINE_KINDS = frozenset(
    {
        Kind.ONLINE_VERIFY,
        Kind.ONLINE_RECEIVED,
        Kind.ONLINE_APPROVED,
        Kind.ONLINE_DECLINED,
        Kind.WAITLIST_JOIN,
    }
)
# Sent because the patient asked to be on the waiting list: no consent gate, but to the
# patient's own address on file.
REQUESTED_KINDS = frozenset({Kind.WAITLIST_OFFER})
# Sent to a member of staff (OutboxMessage.staff_user), about a patient: never subject to the
# patient's consents, never listed among the patient's own messages.
STAFF_KINDS = frozenset({Kind.SEVERE_REACTION_ALERT, Kind.QUESTIONNAIRE_ALERT})
# What a booked session is told before it takes place. Each row describes one version of the
# booking (OutboxMessage.step): only the newest row of each kind is ever sent, and all of them
# stop once the session has taken place.
PRE_SESSION_KINDS = (Kind.CONFIRMATION, Kind.PREPARATION, Kind.REMINDER)


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"
    MISSED = "missed", "Missed"


class Reason(models.TextChoices):
    NO_EMAIL = "no_email", "No email address"
    NO_CARE_CONSENT = "no_care_consent", "No consent to email reminders"
    NO_MARKETING_CONSENT = "no_marketing_consent", "No consent to nudges"
    SUPERSEDED = "superseded", "Superseded"
    SESSION_CHANGED = "session_changed", "Session no longer applies"
    BOOKED_LATE = "booked_late", "Booked after the reminder time"
    NOT_APPLICABLE = "not_applicable", "No longer applies"
    PAST_USEFUL = "past_useful", "Past its useful moment"
    SMTP = "smtp", "Mail server refused"
    RENDER = "render", "Could not be composed"


CONSENT_REASONS = {
    Reason.NO_CARE_CONSENT: CARE_KINDS,
    Reason.NO_MARKETING_CONSENT: NUDGE_KINDS,
}


class OutboxMessage(models.Model):
    kind = models.CharField(max_length=24, choices=Kind.choices)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    booking_request = models.ForeignKey(
        "online.BookingRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    waitlist_entry = models.ForeignKey(
        "waitlist.Entry",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    waitlist_offer = models.ForeignKey(
        "waitlist.Offer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    # The online kinds' recipient (the address typed on the booking page).
    to_email = models.EmailField(max_length=254, blank=True)
    session = models.ForeignKey(
        "treatments.Session",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    course = models.ForeignKey(
        "courses.Course",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    # Staff kinds: who receives it, and the reaction it is about (the patient is the reaction's).
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff_outbox_messages",
    )
    reaction = models.ForeignKey(
        "clinical.Reaction",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    # The questionnaire kinds: the questionnaire the patient is asked to answer (QUESTIONNAIRE),
    # or whose answers a practitioner is alerted to (QUESTIONNAIRE_ALERT, with staff_user).
    questionnaire = models.ForeignKey(
        "clinical.Questionnaire",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    # Session kinds: the booking's revision (confirmation n is sent after the n-th change;
    # a reminder sent for the old date gets a fresh row for the new one). Course kinds: the
    # course step the message is about.
    step = models.PositiveIntegerField(default=0)

    due_at = models.DateTimeField()
    # After this instant the message is no longer useful (a day-before reminder once the session
    # has started) and becomes "missed" instead of being sent late.
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Why a row was skipped, cancelled or missed: a stable code for the logic (re-enabling rows
    # skipped for consent) and a sentence for the staff page.
    reason_code = models.CharField(max_length=24, choices=Reason.choices, blank=True)
    status_reason = models.CharField(max_length=200, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    # Backoff after a transient SMTP error: not claimed again before this instant.
    retry_at = models.DateTimeField(null=True, blank=True)
    # Which dispatcher claim owns the row while it is "sending". A send task carrying an older
    # claim (redelivered by the broker after the reaper took the row back) sends nothing.
    claim = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Times the reaper took the row back from a dead or lost send; each may be a duplicate.
    reclaims = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.EmailField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "session", "step"],
                condition=models.Q(session__isnull=False),
                name="outbox_once_per_session_kind_step",
            ),
            models.UniqueConstraint(
                fields=["kind", "course", "step"],
                condition=models.Q(course__isnull=False),
                name="outbox_once_per_course_kind_step",
            ),
            # One alert per reaction and member of staff, however often it is raised.
            models.UniqueConstraint(
                fields=["kind", "reaction", "staff_user"],
                condition=models.Q(reaction__isnull=False),
                name="outbox_once_per_reaction_staff",
            ),
            # One questionnaire email per questionnaire, one alert per member of staff.
            models.UniqueConstraint(
                fields=["kind", "questionnaire"],
                condition=models.Q(questionnaire__isnull=False, staff_user__isnull=True),
                name="outbox_once_per_questionnaire",
            ),
            models.UniqueConstraint(
                fields=["kind", "questionnaire", "staff_user"],
                condition=models.Q(questionnaire__isnull=False, staff_user__isnull=False),
                name="outbox_once_per_questionnaire_staff",
            ),
            models.CheckConstraint(
                condition=models.Q(session__isnull=False)
                | models.Q(course__isnull=False)
                | models.Q(reaction__isnull=False, staff_user__isnull=False)
                | models.Q(booking_request__isnull=False)
                | models.Q(questionnaire__isnull=False)
                | models.Q(waitlist_entry__isnull=False)
                | models.Q(waitlist_offer__isnull=False),
                name="outbox_about_something",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sending")
                | models.Q(claim__isnull=False, lease_until__isnull=False),
                name="outbox_sending_has_claim",
            ),
            models.CheckConstraint(
                condition=models.Q(patient__isnull=False) | models.Q(to_email__gt=""),
                name="outbox_has_recipient",
            ),
        ]
        indexes = [
            # The dispatcher's scan: only pending rows, in due order.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending"),
                name="outbox_pending_due",
            ),
            models.Index(
                fields=["lease_until"],
                condition=models.Q(status="sending"),
                name="outbox_sending_lease",
            ),
            models.Index(fields=["status", "due_at"], name="outbox_status_due"),
            models.Index(fields=["patient", "due_at"], name="outbox_patient_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for patient {self.patient_id} ({self.status})"


class SessionConfirmation(models.Model):
    """The patient confirmed attendance through the confirmation email's link."""

    session = models.OneToOneField(
        "treatments.Session", on_delete=models.CASCADE, related_name="patient_confirmation"
    )
    confirmed_at = models.DateTimeField()
    # The start time the patient confirmed: a confirmation belongs to one time, and a reschedule
    # deletes it (messaging.reactions) so the desk never reads "confirmed" for a new time.
    starts_at = models.DateTimeField(null=True, blank=True)
    # The confirmation email whose link was used.
    message = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Session {self.session_id} confirmed at {self.confirmed_at:%Y-%m-%d %H:%M}"


class UsedLink(models.Model):
    """A signed patient link that has done its job; presenting it again changes nothing."""

    # sha256 of the token, so the table holds nothing that could be replayed.
    digest = models.CharField(max_length=64, unique=True)
    action = models.CharField(max_length=24)
    used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.action} link used at {self.used_at:%Y-%m-%d %H:%M}"


class PatientCancellation(models.Model):
    """The patient cancelled through the email's link. The desk is told on its Today page until
    someone acknowledges it; the calendar marks the freed slot "cancelled by the patient"."""

    session = models.OneToOneField(
        "treatments.Session", on_delete=models.CASCADE, related_name="patient_cancellation"
    )
    cancelled_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            # The desk's notices: the ones nobody has acknowledged yet, newest first.
            models.Index(
                fields=["-cancelled_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="patient_cancel_unseen",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.session_id} cancelled by the patient at {self.cancelled_at}"
