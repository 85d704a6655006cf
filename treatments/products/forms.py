from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from .models import EvidenceLink, Product
from .services import EvidenceData, IngredientData, ProductData

MAX_INGREDIENTS = 40


class ProductForm(forms.Form):
    name = forms.CharField(max_length=120)
    manufacturer = forms.CharField(max_length=120)
    indications = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    ingredients = forms.CharField(
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            "One ingredient per line, optionally followed by ';' and its concentration, "
            "e.g. 'Hyaluronic acid; 10 mg/ml'. Screening matches allergies against these names."
        ),
    )
    registration_body = forms.CharField(
        max_length=120,
        required=False,
        help_text="e.g. MHRA, or the notified body (CE 2797). Needed before the product is used.",
    )
    device_class = forms.ChoiceField(
        choices=[("", "—"), *Product.DeviceClass.choices], required=False
    )
    registration_number = forms.CharField(max_length=80, required=False)
    low_stock_threshold_ml = forms.DecimalField(
        label="Low-stock warning below (ml)",
        required=False,
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100000"))],
        help_text="Leave empty for the clinic default.",
    )
    active = forms.BooleanField(required=False, initial=True)

    def clean_ingredients(self) -> list[IngredientData]:
        items: list[IngredientData] = []
        for number, raw in enumerate(self.cleaned_data["ingredients"].splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            name, _, concentration = (part.strip() for part in line.partition(";"))
            if not name:
                raise forms.ValidationError(f"Line {number} has a concentration but no name.")
            if len(name) > 120 or len(concentration) > 60:
                raise forms.ValidationError(
                    f"Line {number} is too long (name up to 120, concentration up to 60 "
                    "characters)."
                )
            items.append(IngredientData(name=name, concentration=concentration))
        if len(items) > MAX_INGREDIENTS:
            raise forms.ValidationError(f"At most {MAX_INGREDIENTS} ingredients.")
        # A name listed twice is product_save's to refuse (beside this field).
        return items

    def product_data(self) -> ProductData:
        data = self.cleaned_data
        return ProductData(
            name=data["name"],
            manufacturer=data["manufacturer"],
            indications=data["indications"],
            registration_body=data["registration_body"],
            device_class=data["device_class"],
            registration_number=data["registration_number"],
            low_stock_threshold_ml=data["low_stock_threshold_ml"],
            active=data["active"],
        )

    @staticmethod
    def initial_for(product: Product) -> dict:
        return {
            "name": product.name,
            "manufacturer": product.manufacturer,
            "indications": product.indications,
            "ingredients": "\n".join(
                f"{i.name}; {i.concentration}" if i.concentration else i.name
                for i in product.ingredients.all()
            ),
            "registration_body": product.registration_body,
            "device_class": product.device_class,
            "registration_number": product.registration_number,
            "low_stock_threshold_ml": product.low_stock_threshold_ml,
            "active": product.active,
        }


class EvidenceForm(forms.Form):
    # The initial value matters: the browser always submits the select, and a blank extra form
    # only counts as untouched when that value equals the initial one.
    kind = forms.ChoiceField(
        choices=EvidenceLink.Kind.choices, initial=EvidenceLink.Kind.CLINICAL_TRIAL
    )
    url = forms.URLField(label="Link", max_length=500, assume_scheme="https")
    title = forms.CharField(max_length=200, required=False)


EvidenceFormSet = forms.formset_factory(
    EvidenceForm, extra=2, can_delete=True, max_num=20, validate_max=True
)


def evidence_from(formset: forms.BaseFormSet) -> list[EvidenceData]:
    return [
        EvidenceData(
            kind=f.cleaned_data["kind"], url=f.cleaned_data["url"], title=f.cleaned_data["title"]
        )
        for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


class LotForm(forms.Form):
    lot_number = forms.CharField(max_length=60)
    expiry_date = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    received_on = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    quantity_ml = forms.DecimalField(
        label="Quantity received (ml)",
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100000"))],
    )


class LotSearchForm(forms.Form):
    q = forms.CharField(label="Lot number or product", max_length=60, required=False)
