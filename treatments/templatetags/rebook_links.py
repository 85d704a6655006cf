"""{% book_next_url session %}: the booking form for the patient's next session like this one."""

from __future__ import annotations

from django import template

from ..models import Session
from ..rebook import book_next_url

register = template.Library()


@register.simple_tag
def book_next_url_for(session: Session) -> str:
    return book_next_url(
        patient_id=session.patient_id,
        session_type_id=session.session_type_id,
        practitioner_id=session.practitioner_id,
        room_id=session.room_id,
    )
