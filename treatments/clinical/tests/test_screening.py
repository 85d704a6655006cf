import datetime as dt

import pytest
import time_machine

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.clinical.errors import ClinicalError
from treatments.clinical.models import (
    ClinicalSettings,
    Screening,
    ScreeningRule,
    Technique,
)
from treatments.clinical.services.screening import add_months, screening_findings

from .factories import answers_all_no, make_screening

pytestmark = pytest.mark.django_db


def test_the_default_rules_are_seeded_with_the_electric_device_questions():
    codes = set(ScreeningRule.objects.values_list("code", flat=True))
    assert {"pregnancy", "anticoagulants", "lidocaine-allergy", "isotretinoin"} <= codes
    pacemaker = ScreeningRule.objects.get(code="pacemaker")
    assert pacemaker.severity == "absolute"
    assert (pacemaker.scope, pacemaker.technique) == ("technique", Technique.ELECTRIC)
    assert ScreeningRule.objects.filter(code__in=["metal-implants", "epilepsy"]).count() == 2


def test_it_records_every_answer_with_the_question_as_asked(practitioner_profile):
    patient = PatientFactory()
    screening = make_screening(patient, practitioner_profile.user, anticoagulants="warfarin")
    assert screening.answers.count() == ScreeningRule.objects.filter(active=True).count()
    answer = screening.answers.get(rule__code="anticoagulants")
    assert (answer.answer, answer.detail) == (True, "warfarin")
    ScreeningRule.objects.filter(code="anticoagulants").update(question="Changed wording?")
    answer.refresh_from_db()
    assert answer.question.startswith("Taking anticoagulants")
    assert AuditEntry.objects.filter(
        patient=patient, action="create", object_type="screening", object_id=screening.pk
    ).exists()


def test_it_refuses_an_incomplete_screening_and_saves_nothing(practitioner_profile):
    patient = PatientFactory()
    answers = answers_all_no()
    answers.pop(next(iter(answers)))
    with pytest.raises(ClinicalError, match="Answer every question"):
        from treatments.clinical.services.screening import screening_record

        screening_record(patient=patient, by=practitioner_profile.user, answers=answers)
    assert not Screening.objects.filter(patient=patient).exists()


def test_it_asks_for_details_when_a_rule_needs_them(practitioner_profile):
    from treatments.clinical.services.screening import screening_record

    rule = ScreeningRule.objects.get(code="anticoagulants")
    answers = answers_all_no()
    answers[rule.pk] = (True, "   ")
    with pytest.raises(ClinicalError) as err:
        screening_record(patient=PatientFactory(), by=practitioner_profile.user, answers=answers)
    assert err.value.field == f"detail_{rule.pk}"


def test_a_screening_is_valid_for_the_clinic_setting(practitioner_profile):
    settings_row = ClinicalSettings.get()
    settings_row.screening_valid_months = 3
    settings_row.save()
    taken = dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
    screening = make_screening(PatientFactory(), practitioner_profile.user, taken_at=taken)
    assert screening.valid_until == dt.datetime(2027, 2, 28, 10, tzinfo=dt.UTC)
    assert screening.is_valid_at(taken + dt.timedelta(days=80))
    assert not screening.is_valid_at(dt.datetime(2027, 2, 28, 10, tzinfo=dt.UTC))


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(dt.datetime(2026, 8, 31, tzinfo=dt.UTC), 6).date() == dt.date(2027, 2, 28)
    assert add_months(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 12).date() == dt.date(2027, 1, 15)


def test_findings_apply_rules_by_scope(practitioner_profile):
    screening = make_screening(
        PatientFactory(),
        practitioner_profile.user,
        pacemaker="",
        **{"lidocaine-allergy": "", "ingredient-allergy": "hyaluronic acid, DMAE"},
    )
    screening = Screening.objects.prefetch_related("answers__rule").get(pk=screening.pk)
    codes = lambda **kw: {f.rule.code for f in screening_findings(screening=screening, **kw)}  # noqa: E731
    assert codes(technique=Technique.SYRINGE) == set()
    assert codes(technique=Technique.ELECTRIC) == {"pacemaker"}
    assert codes(ingredients=["Lidocaine HCl"]) == {"lidocaine-allergy"}
    assert codes(ingredients=["Hyaluronic acid", "vitamin C"]) == {"ingredient-allergy"}
    assert codes(ingredients=["vitamin C"]) == set()


@time_machine.travel(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC), tick=False)
def test_a_screening_goes_stale(practitioner_profile):
    screening = make_screening(PatientFactory(), practitioner_profile.user)
    assert screening.is_valid_at(dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC))
    assert not screening.is_valid_at(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))


def test_a_new_rule_whose_code_was_taken_meanwhile_is_saved_under_the_next_code(
    manager_user, monkeypatch
):
    from treatments.clinical.services import rules

    real = rules._free_code
    # The first pick is a code another manager's save has just taken (race on the unique code).
    picks = iter(["pregnancy"])
    monkeypatch.setattr(rules, "_free_code", lambda question: next(picks, None) or real(question))
    rule = rules.screening_rule_save(
        by=manager_user,
        data={"question": "Pregnant or breastfeeding?", "severity": "absolute"},
    )
    assert rule.pk and rule.code == "pregnant-or-breastfeeding"
    assert ScreeningRule.objects.filter(code="pregnancy").count() == 1
