import datetime as dt

import pytest
import time_machine

from treatments.clinical.errors import ClinicalError
from treatments.clinical.services.reactions import reaction_report, reaction_update
from treatments.models import Session
from treatments.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def test_a_reaction_resolved_today_in_the_clinic_is_not_in_the_future_before_utc_midnight(
    patient, face, practitioner_profile, room
):
    # 00:30 on 11 July in London is still 10 July in UTC; the service may run outside a request.
    with time_machine.travel(dt.datetime(2026, 7, 10, 23, 30, tzinfo=UTC), tick=False):
        session = SessionFactory(
            patient=patient,
            session_type=face,
            practitioner=practitioner_profile,
            room=room,
            starts_at=dt.datetime(2026, 7, 10, 22, 0, tzinfo=UTC),
            status=Session.Status.COMPLETED,
        )
        reaction = reaction_report(
            session=session,
            patient=patient,
            type="redness",
            severity="mild",
            onset=dt.datetime(2026, 7, 10, 23, 15, tzinfo=UTC),
            description="Red",
            source="practitioner",
            reported_by=practitioner_profile.user,
        )
        update = {"by": practitioner_profile.user, "severity": "mild", "action_taken": ""}
        reaction = reaction_update(
            reaction=reaction, resolved_on=dt.date(2026, 7, 11), resolution="Gone", **update
        )
        assert reaction.resolved_on == dt.date(2026, 7, 11)
        with pytest.raises(ClinicalError, match="future"):
            reaction_update(
                reaction=reaction, resolved_on=dt.date(2026, 7, 12), resolution="", **update
            )
        with pytest.raises(ClinicalError, match="before it started"):
            reaction_update(
                reaction=reaction, resolved_on=dt.date(2026, 7, 10), resolution="", **update
            )


def test_the_dashboard_counts_today_in_the_clinic_s_day_outside_a_request(
    patient, face, practitioner_profile, room
):
    from treatments.clinical.selectors import dashboard_reactions

    # 23:50 on 10 July in London (22:50 UTC) is yesterday by 00:30 on 11 July (23:30 UTC), even
    # though both are 10 July in UTC, the active zone outside a request.
    session = SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=dt.datetime(2026, 7, 10, 20, 0, tzinfo=UTC),
        status=Session.Status.COMPLETED,
    )
    with time_machine.travel(dt.datetime(2026, 7, 10, 22, 50, tzinfo=UTC), tick=False):
        yesterday = reaction_report(
            session=session,
            patient=patient,
            type="swelling",
            severity="severe",
            onset=dt.datetime(2026, 7, 10, 22, 0, tzinfo=UTC),
            description="",
            source="patient",
        )
    with time_machine.travel(dt.datetime(2026, 7, 10, 23, 10, tzinfo=UTC), tick=False):
        today = reaction_report(
            session=session,
            patient=patient,
            type="pain",
            severity="severe",
            onset=dt.datetime(2026, 7, 10, 23, 0, tzinfo=UTC),
            description="",
            source="patient",
        )
    with time_machine.travel(dt.datetime(2026, 7, 10, 23, 30, tzinfo=UTC), tick=False):
        board = dashboard_reactions()
    assert board["severe_today"] == [today]
    assert board["severe_open"] == [yesterday]
