"""The dispatcher: claim due rows, send them, take back rows whose sender died.

One code path for every deployment: Celery beat runs `messages_dispatch_due` every
`conf.dispatch_interval()` seconds and the worker runs `messages_send_batch` for each claimed
batch;
`make run` (no Redis) calls `dispatch_in_process`, which does the same in-process.

Exactly-once as far as it can be had over SMTP:
- Claim: `SELECT ... FOR UPDATE SKIP LOCKED` on due pending rows, flipped to "sending" with a
  fresh claim id and a lease, committed before the batch is handed on. Any number of
  dispatchers run at once and each row is claimed by one of them.
- Send: each row is locked again (FOR UPDATE) with its claim id, re-checked (still applies,
  consent, useful moment), sent, and marked sent in ONE transaction. A task redelivered by the
  broker, or a claim taken back by the reaper, finds its claim gone and sends nothing.
- Reap: a "sending" row goes back to pending when its lease ran out (its worker was killed or
  hung) or, at once, when the broker lost its task (Redis restarted or flushed: the per-claim
  marker kept beside the task in Redis is gone, see tasks.py). The only duplicate possible is a
  row the SMTP server accepted just before its worker died, before the commit: at most one per
  worker process in flight. Every row reclaimed after a lease is logged as a possible duplicate
  and counted in `reclaims`.
- Senders keep the pipeline full: a finished batch claims the next one, so throughput does not
  wait for the next tick, while at most MESSAGING_MAX_IN_FLIGHT rows are claimed at any time.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from treatments.models import Clinic
from treatments.selectors import clinic_get

from . import conf
from .models import OutboxMessage, Reason, Status
from .outbox import REASON_TEXT, message_block, recipient_email
from .render import message_email
from .selectors import message_still_applies

log = logging.getLogger(__name__)

# Backoff after a transient SMTP error, by attempt number (1st retry after 1 min, ...).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=20), timedelta(hours=1))

Enqueue = Callable[[list[int], str], None]


def is_transient(exc: BaseException) -> bool:
    """A 4xx reply, a dropped connection or a network error: worth trying again later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):
        return False
    return isinstance(exc, OSError)  # refused, reset, timed out


def messages_mark_missed(*, now: datetime | None = None) -> int:
    """Pending rows past their useful moment become missed instead of going out late."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, expires_at__lte=now)
            .values_list("pk", flat=True)[:1000]
        )
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(
                status=Status.MISSED,
                reason_code=Reason.PAST_USEFUL,
                status_reason=REASON_TEXT[Reason.PAST_USEFUL],
                updated_at=now,
            )
    return len(ids)


ClaimsAlive = Callable[[list[str]], set[str]]
# A sender that dies on the same row this many times (it crashes the worker) gives up on it.
MAX_RECLAIMS = 10
# A claim younger than this is not judged lost: its task may be on its way to the broker.
LOST_GRACE = timedelta(seconds=1)


def _reclaim(ids: list[int], *, now: datetime, note: str, count: bool) -> None:
    changes: dict[str, object] = {
        "status": Status.PENDING,
        "claim": None,
        "lease_until": None,
        "last_error": note,
        "updated_at": now,
    }
    if count:
        changes["reclaims"] = F("reclaims") + 1
    OutboxMessage.objects.filter(pk__in=ids).update(**changes)


def messages_reap_stale(
    *, now: datetime | None = None, claims_alive: ClaimsAlive | None = None
) -> int:
    """Return "sending" rows whose sender is gone to pending.

    - Lease over: the worker died or hung. It may have handed the row to the mail server before
      dying, so the row is logged as a possible duplicate and counted in `reclaims`.
    - Task lost: the broker no longer knows the claim (Redis restarted or was flushed; the
      dispatcher keeps a marker per claim there, see tasks.py). Nothing was sent for these rows
      by a live task, so they go back at once, without waiting for the lease.
    """
    now = now or timezone.now()
    lease = timedelta(seconds=conf.lease_seconds())
    # Read without locks first (and ask the broker outside any transaction); then lock only the
    # candidates, so that senders are never kept waiting on a row the reaper merely looked at.
    sending = [
        (pk, claim, until)
        for pk, claim, until in OutboxMessage.objects.filter(status=Status.SENDING).values_list(
            "pk", "claim", "lease_until"
        )
        if until is not None  # a claimed row always has a lease (messages_claim_due sets both)
    ]
    candidates = {pk: claim for pk, claim, until in sending if until <= now}
    lost_ids: set[int] = set()
    if claims_alive is not None:
        judged = [
            (pk, claim) for pk, claim, until in sending if until - lease + LOST_GRACE <= now < until
        ]
        alive = claims_alive(sorted({str(claim) for _, claim in judged}))
        for pk, claim in judged:
            if str(claim) not in alive:
                candidates[pk] = claim
                lost_ids.add(pk)
    if not candidates:
        return 0
    with transaction.atomic():
        # SKIP LOCKED: a row being sent right now is locked by its sender and is not stale; a
        # row whose claim changed meanwhile was reclaimed by another dispatcher.
        locked = [
            (pk, claim, n)
            for pk, claim, n in OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(candidates), status=Status.SENDING)
            .values_list("pk", "claim", "reclaims")
            if candidates[pk] == claim
        ]
        expired = [(pk, claim, n) for pk, claim, n in locked if pk not in lost_ids]
        lost = [(pk, claim) for pk, claim, _ in locked if pk in lost_ids]
        give_up = [pk for pk, _, n in expired if n + 1 >= MAX_RECLAIMS]
        _reclaim(
            [pk for pk, _, n in expired if n + 1 < MAX_RECLAIMS],
            now=now,
            note="Send lease expired; returned to the queue.",
            count=True,
        )
        _reclaim(
            [pk for pk, _ in lost],
            now=now,
            note="Send task lost by the broker; returned to the queue.",
            count=False,
        )
        OutboxMessage.objects.filter(pk__in=give_up).update(
            status=Status.FAILED,
            claim=None,
            lease_until=None,
            reclaims=F("reclaims") + 1,
            reason_code=Reason.SMTP,
            status_reason=f"Its sender died {MAX_RECLAIMS} times while sending it.",
            updated_at=now,
        )
    for pk, claim, _ in expired:
        log.warning(
            "outbox message %s: send lease expired (claim %s); reclaimed. If its worker died "
            "after the mail server accepted it, the patient may receive it twice "
            "(possible duplicate).",
            pk,
            claim,
        )
    if lost:
        log.warning(
            "%s outbox messages: their send tasks were lost by the broker; reclaimed: %s",
            len(lost),
            ", ".join(str(pk) for pk, _ in lost),
        )
    return len(expired) + len(lost)


def messages_claim_due(
    *, now: datetime | None = None, max_batches: int | None = None
) -> list[tuple[str, list[int]]]:
    """Claim due rows in batches; returns (claim id, row ids) per batch, each committed."""
    now = now or timezone.now()
    size = conf.batch_size()
    room = conf.max_in_flight() - OutboxMessage.objects.filter(status=Status.SENDING).count()
    if max_batches is not None:
        room = min(room, size * max_batches)
    lease_until = now + timedelta(seconds=conf.lease_seconds())
    batches: list[tuple[str, list[int]]] = []
    while room > 0:
        with transaction.atomic():
            ids = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(status=Status.PENDING, due_at__lte=now, expires_at__gt=now)
                .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
                .order_by("due_at", "pk")
                .values_list("pk", flat=True)[: min(size, room)]
            )
            if not ids:
                break
            claim = uuid.uuid4()
            OutboxMessage.objects.filter(pk__in=ids).update(
                status=Status.SENDING,
                claim=claim,
                lease_until=lease_until,
                updated_at=now,
            )
        batches.append((str(claim), ids))
        room -= len(ids)
    return batches


def messages_dispatch_due(*, enqueue: Enqueue, claims_alive: ClaimsAlive | None = None) -> int:
    """One dispatcher run: reap, mark missed, claim, and hand each batch to `enqueue`."""
    messages_reap_stale(claims_alive=claims_alive)
    messages_mark_missed()
    claimed = 0
    for claim, ids in messages_claim_due():
        try:
            enqueue(ids, claim)
        except Exception:
            # The rows stay "sending" and the reaper returns them after the lease.
            log.exception("could not hand %s outbox messages to a sender", len(ids))
            break
        claimed += len(ids)
    if claimed:
        log.info("dispatcher handed %s outbox messages to senders", claimed)
    return claimed


def messages_dispatch_next(*, enqueue: Enqueue) -> int:
    """Claim one more batch, if any is due: called by a sender when it finishes its batch, so
    the workers stay busy between dispatcher ticks while at most MESSAGING_MAX_IN_FLIGHT rows
    wait in the queue (and so within one lease)."""
    claimed = 0
    for claim, ids in messages_claim_due(max_batches=1):
        enqueue(ids, claim)
        claimed += len(ids)
    return claimed


class _Sender:
    """One SMTP connection for a batch, opened on first use and reopened after an error."""

    def __init__(self) -> None:
        self.connection = get_connection(fail_silently=False)
        self.open = False

    def send(self, email: EmailMessage) -> None:
        if not self.open:
            self.connection.open()
            self.open = True
        email.connection = self.connection
        self.connection.send_messages([email])

    def reset(self) -> None:
        # Closing a connection the server already dropped raises; it is closed either way.
        with contextlib.suppress(Exception):
            self.connection.close()
        self.open = False


def _finish(message: OutboxMessage, status: str, code: str = "", reason: str = "") -> None:
    message.status = status
    message.reason_code = code
    message.status_reason = reason[:200]
    message.claim = None
    message.lease_until = None
    message.save()


def _send_one(pk: int, claim: str, sender: _Sender, clinic: Clinic) -> str:
    now = timezone.now()
    with transaction.atomic():
        message = (
            # Not SKIP LOCKED: the row may be held for a moment by the reaper or by a duplicate
            # of this task; waiting, then re-reading status and claim, is what keeps it single.
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related(
                "patient",
                "session__practitioner__user",
                "session__room",
                "session__session_type",
                "course__practitioner__user",
                "booking_request__session_type",
                "waitlist_offer__practitioner__user",
                "waitlist_offer__room",
                "waitlist_offer__session_type",
                "waitlist_entry__session_type",
                "staff_user",
                "reaction",
                "questionnaire__session",
            )
            .filter(pk=pk, status=Status.SENDING, claim=claim)
            .first()
        )
        if message is None:
            return "not ours"  # sent, reaped and re-claimed, or being sent elsewhere
        code, reason = message_block(message)
        if code:
            _finish(message, Status.SKIPPED, code, reason)
            return Status.SKIPPED
        if message.expires_at <= now:
            _finish(message, Status.MISSED, Reason.PAST_USEFUL, REASON_TEXT[Reason.PAST_USEFUL])
            return Status.MISSED
        if not message_still_applies(message):
            _finish(message, Status.CANCELLED, Reason.NOT_APPLICABLE, "No longer applies.")
            return Status.CANCELLED
        try:
            email = message_email(message, clinic=clinic)
        except Exception as exc:
            log.exception("outbox message %s could not be composed", pk)
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            _finish(message, Status.FAILED, Reason.RENDER, "Could not be composed.")
            return Status.FAILED
        message.attempts += 1
        if message.reclaims:
            log.warning(
                "outbox message %s: sending again after %s reclaim(s) (possible duplicate)",
                pk,
                message.reclaims,
            )
        try:
            sender.send(email)
        except Exception as exc:
            sender.reset()
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if is_transient(exc) and message.attempts < conf.max_attempts():
                delay = BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
                message.retry_at = now + delay
                log.warning("outbox message %s: transient SMTP error, retry in %s", pk, delay)
                _finish(message, Status.PENDING)
                return "retry"
            log.error("outbox message %s failed: %s", pk, message.last_error)
            _finish(message, Status.FAILED, Reason.SMTP, "The mail server refused it.")
            return Status.FAILED
        message.sent_at = timezone.now()
        message.sent_to = recipient_email(message)
        message.subject = email.subject[:200]
        message.retry_at = None
        _finish(message, Status.SENT)
        return Status.SENT


def messages_send_batch(*, ids: Iterable[int], claim: str) -> dict[str, int]:
    """Send the claimed rows over one SMTP connection. Safe to run twice: rows already sent
    (or claimed by someone else) are left alone."""
    clinic = clinic_get()
    sender = _Sender()
    outcomes: dict[str, int] = {}
    try:
        for pk in ids:
            outcome = _send_one(pk, claim, sender, clinic)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        sender.reset()
    return outcomes


def _send_now(ids: list[int], claim: str) -> None:
    messages_send_batch(ids=ids, claim=claim)


def dispatch_in_process() -> int:
    """`make run` without Redis: the same claim and send, in this process. Never raises."""
    try:
        return messages_dispatch_due(enqueue=_send_now)
    except Exception:
        log.exception("in-process message dispatch failed; trying again next interval")
        return 0
