"""Parsing and field validation only; the rules live in the services."""

from __future__ import annotations

import functools
from typing import Any, cast

from django import forms
from django.utils import timezone

from treatments.models import SessionType
from treatments.products.models import Lot, Product
from treatments.products.selectors import lots_usable

from .models import (
    ClinicalPhoto,
    Consultation,
    Depth,
    PhotoConsent,
    Questionnaire,
    Reaction,
    ScreeningRule,
    Severity,
    Technique,
    Zone,
)

YES_NO = [("no", "No"), ("yes", "Yes")]


def _blank(choices: list) -> list:
    return [("", "Choose…"), *choices]


class ConsultationForm(forms.Form):
    concerns = forms.MultipleChoiceField(
        choices=Consultation.Concern.choices, widget=forms.CheckboxSelectMultiple
    )
    concerns_other = forms.CharField(max_length=200, required=False, label="Other concern")
    goals = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # The skin assessment starts empty: a pre-selected "Normal, I, Low" would be saved untouched
    # as if it had been assessed.
    skin_type = forms.ChoiceField(
        choices=_blank(Consultation.SkinType.choices),
        error_messages={"required": "Choose the skin type you assessed."},
    )
    fitzpatrick = forms.TypedChoiceField(
        choices=_blank(Consultation.Fitzpatrick.choices),
        coerce=int,
        empty_value=None,
        label="Fitzpatrick type",
        error_messages={"required": "Choose the Fitzpatrick type you assessed."},
    )
    hydration = forms.ChoiceField(
        choices=_blank(Consultation.Level.choices),
        error_messages={"required": "Choose the hydration level you assessed."},
    )
    elasticity = forms.ChoiceField(
        choices=_blank(Consultation.Level.choices),
        error_messages={"required": "Choose the elasticity level you assessed."},
    )
    sensitivity = forms.ChoiceField(
        choices=_blank(Consultation.Level.choices),
        error_messages={"required": "Choose the sensitivity level you assessed."},
    )
    skin_notes = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    risks_explained = forms.BooleanField(
        required=False, label="Risks explained to the patient (bruising, swelling, infection…)"
    )
    risks_notes = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    recommendation = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    plan_zones = forms.MultipleChoiceField(
        choices=Zone.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Plan: areas",
    )
    plan_products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Plan: products",
    )
    plan_protocol = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Plan: protocol",
        help_text="e.g. 4 sessions 2–3 weeks apart, then maintenance every 3 months",
    )
    plan_sessions = forms.IntegerField(
        min_value=1, max_value=12, required=False, label="Plan: number of sessions"
    )

    @classmethod
    def initial_from(cls, consultation: Consultation) -> dict[str, Any]:
        initial = {name: getattr(consultation, name) for name in cls.base_fields}
        initial["plan_products"] = list(consultation.plan_products.all())
        return initial


class ScreeningForm(forms.Form):
    """One yes/no per active rule (no default: an unanswered question is an error)."""

    def __init__(self, *args: Any, rules: list[ScreeningRule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules = rules
        for rule in rules:
            self.fields[f"rule_{rule.pk}"] = forms.ChoiceField(
                choices=YES_NO,
                widget=forms.RadioSelect(attrs={"class": "form-check-inline"}),
                label=rule.question,
                help_text=rule.guidance,
            )
            if rule.asks_detail:
                self.fields[f"detail_{rule.pk}"] = forms.CharField(
                    max_length=500, required=False, label="Details"
                )

    def prefill_reported(self, questionnaire: Questionnaire) -> None:
        """Start from the patient's own answers, each marked for the practitioner to confirm or
        correct, and ask them to say they went through them with the patient."""
        self.reported = {row.rule_id: row for row in questionnaire.answers.all()}
        for rule_id, row in self.reported.items():
            if f"rule_{rule_id}" in self.fields:
                self.initial[f"rule_{rule_id}"] = "yes" if row.answer else "no"
            if f"detail_{rule_id}" in self.fields:
                self.initial[f"detail_{rule_id}"] = row.detail
        self.fields["reported_checked"] = forms.BooleanField(
            label="I went through each answer the patient reported with them, and confirmed or "
            "corrected it",
            error_messages={
                "required": "Go through the patient's reported answers with them and tick this."
            },
        )

    def rows(self) -> list[tuple[ScreeningRule, Any, Any, Any]]:
        """(rule, answer field, detail field or None, the patient's reported answer or None)."""
        reported = getattr(self, "reported", {})
        return [
            (
                rule,
                self[f"rule_{rule.pk}"],
                self[f"detail_{rule.pk}"] if rule.asks_detail else None,
                reported.get(rule.pk),
            )
            for rule in self.rules
        ]

    def answers(self) -> dict[int, tuple[bool, str]]:
        return {
            rule.pk: (
                self.cleaned_data[f"rule_{rule.pk}"] == "yes",
                self.cleaned_data.get(f"detail_{rule.pk}", "") or "",
            )
            for rule in self.rules
        }


class PatientQuestionnaireForm(ScreeningForm):
    """The same questions for the patient at home, in the patient's wording."""

    def __init__(self, *args: Any, rules: list[ScreeningRule], **kwargs: Any) -> None:
        super().__init__(*args, rules=rules, **kwargs)
        for rule in rules:
            field = self.fields[f"rule_{rule.pk}"]
            field.label = rule.patient_wording
            field.help_text = ""
            field.error_messages["required"] = "Please answer yes or no."
            if rule.asks_detail:
                self.fields[f"detail_{rule.pk}"].label = "If yes, please tell us more"


class ConsentSignForm(forms.Form):
    typed_name = forms.CharField(max_length=200, label="Patient's full name")
    signature = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=2 * 1024 * 1024
    )
    read_aloud = forms.BooleanField(
        label="The patient has read the text above and had their questions answered"
    )


class PhotoConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=PhotoConsent.Purpose.choices)
    given = forms.TypedChoiceField(
        choices=[("yes", "Given"), ("no", "Withdrawn")], coerce=lambda v: v == "yes"
    )


class RecordForm(forms.Form):
    screening_reconfirmed = forms.BooleanField(
        required=False,
        label="Patient confirms nothing has changed since the screening",
    )
    area_cleansed = forms.BooleanField(required=False, label="Area cleansed")
    photos_taken = forms.BooleanField(required=False, label="Before photos taken")
    technique = forms.ChoiceField(choices=Technique.choices)
    depth = forms.ChoiceField(choices=Depth.choices)
    spacing_mm = forms.IntegerField(
        min_value=1, max_value=50, initial=10, label="Injection spacing (mm)"
    )
    zones = forms.MultipleChoiceField(
        choices=Zone.choices, widget=forms.CheckboxSelectMultiple, label="Areas treated"
    )
    anaesthetic_used = forms.BooleanField(required=False, label="Topical anaesthetic applied")
    anaesthetic_product = forms.CharField(
        max_length=120, required=False, label="Anaesthetic product"
    )
    anaesthetic_minutes = forms.IntegerField(
        min_value=0, max_value=180, required=False, label="Minutes applied"
    )
    laser_on = forms.DateField(
        required=False, label="Laser on", widget=forms.DateInput(attrs={"type": "date"})
    )
    microneedling_on = forms.DateField(
        required=False, label="Microneedling on", widget=forms.DateInput(attrs={"type": "date"})
    )
    peel_on = forms.DateField(
        required=False, label="Chemical peel on", widget=forms.DateInput(attrs={"type": "date"})
    )
    reactions_none = forms.BooleanField(required=False, label="No immediate reaction")
    immediate_reactions = forms.CharField(
        max_length=1000,
        required=False,
        label="Immediate reactions",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    risk_reason = forms.CharField(
        max_length=1000,
        required=False,
        label="Reason for accepting relative contraindications",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ProductUseForm(forms.Form):
    lot = forms.ModelChoiceField(queryset=Lot.objects.none(), label="Product and lot")
    volume_ml = forms.DecimalField(
        min_value=0.01, max_value=100, max_digits=6, decimal_places=2, label="Volume (ml)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any lot may be posted, so that an expired or withdrawn one gets the service's
        # explanation rather than "not a valid choice"; the list offers the usable ones.
        lot = cast(forms.ModelChoiceField, self.fields["lot"])
        lot.queryset = Lot.objects.select_related("product")
        # Read when the list is drawn, once (the widget iterates it more than once), and not
        # for a form that is only validated (a POST that succeeds) or replaced by a refused one.
        lot.choices = functools.cache(self._usable_lot_choices)

    @staticmethod
    def _usable_lot_choices() -> list[tuple[Any, str]]:
        return [("", "---------")] + [
            (lot.pk, f"{lot.product.name} · lot {lot.lot_number} · exp {lot.expiry_date:%d %b %Y}")
            for lot in lots_usable()
        ]


class SignForm(forms.Form):
    ended_at = forms.DateTimeField(
        label="Session ended at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class AddendumForm(forms.Form):
    text = forms.CharField(
        max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Addendum"
    )


class PhotoForm(forms.Form):
    stage = forms.ChoiceField(choices=ClinicalPhoto.Stage.choices)
    zone = forms.ChoiceField(choices=Zone.choices, label="Area")
    view = forms.ChoiceField(choices=ClinicalPhoto.View.choices)
    image = forms.FileField(
        label="Photo",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}
        ),
    )


class ReactionForm(forms.Form):
    type = forms.ChoiceField(choices=Reaction.Type.choices)
    severity = forms.ChoiceField(choices=Severity.choices)
    onset = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    description = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    action_taken = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReactionUpdateForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    action_taken = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    resolved_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    resolution = forms.CharField(max_length=500, required=False)


class ConsentTextForm(forms.Form):
    session_type = forms.ModelChoiceField(queryset=SessionType.objects.filter(active=True))
    title = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 12}))


def local_now_input() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class ScreeningRuleForm(forms.ModelForm):
    class Meta:
        labels = {"patient_question": "Question for the patient"}
        help_texts = {
            "patient_question": "How the health questionnaire sent before the visit asks it, in "
            "plain words. Empty: the question above."
        }
        model = ScreeningRule
        fields = [
            "question",
            "patient_question",
            "guidance",
            "severity",
            "scope",
            "technique",
            "ingredient",
            "asks_detail",
            "position",
            "active",
        ]
        help_texts = {
            "ingredient": "For an ingredient rule: e.g. lidocaine. Leave empty to match the "
            "ingredients the patient names in the details.",
            "position": "Order in the questionnaire.",
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("scope") == ScreeningRule.Scope.TECHNIQUE and not data.get("technique"):
            self.add_error("technique", "Choose the technique this rule applies to.")
        if data.get("scope") != ScreeningRule.Scope.TECHNIQUE:
            data["technique"] = ""
        if data.get("scope") == ScreeningRule.Scope.INGREDIENT and not data.get("ingredient"):
            data["asks_detail"] = True
        return data


class ClinicalSettingsForm(forms.Form):
    screening_valid_months = forms.IntegerField(
        min_value=1, max_value=24, label="A screening is valid for (months)"
    )
