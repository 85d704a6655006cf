"""Writes for the product register, lots and stock.

Interface for the clinical record (the session's "products used"):

    from treatments.products.services import lot_use, lot_usage_reverse

    usage = lot_use(*, lot: Lot, session: Session, volume_ml: Decimal, by: User | None) -> LotUsage
        Records `volume_ml` of `lot` used in `session` and takes it out of stock, under a row
        lock on the lot. Refuses (raises a DomainError subclass, `.field` = "lot" or
        "volume_ml", nothing saved):
          ProductNotUsable  the product is inactive or has no registration (body + number);
          LotExpired        the lot's expiry date is before the session's local date;
          InsufficientStock the lot holds less than `volume_ml`;
          DomainError       volume not positive / above 100 ml, or the session is cancelled or
                            a no-show.
        Call it inside the clinical record's own transaction.atomic(): if the record fails
        later, the usage and the stock change roll back with it.

    lot_usage_reverse(*, usage: LotUsage, by: User | None) -> None
        Deletes the usage and puts its volume back into stock (an unsigned record corrected).

    product_is_usable(product) -> bool   registered (body + number) and active.
    product.ingredient_names() -> list[str]   lower-case names, for allergy screening rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F

from mesoclinic.errors import DomainError
from treatments.models import Session
from treatments.selectors import clinic_zone

from .models import EvidenceLink, Ingredient, Lot, LotUsage, Product

MAX_VOLUME_ML = Decimal("100")


class ProductNotUsable(DomainError):
    """The product is inactive or not registered as a medical device."""


class LotExpired(DomainError):
    """The lot's expiry date is before the session's day."""


class InsufficientStock(DomainError):
    """The lot does not hold the volume asked for."""


def product_is_usable(product: Product) -> bool:
    return product.is_usable


def _not_usable_reason(product: Product) -> str | None:
    if not product.active:
        return f"{product} is inactive in the product register and cannot be used."
    if not product.is_registered:
        return (
            f"{product} has no medical-device registration on file (registration body and "
            "number). Only registered products can be used; ask the clinic manager."
        )
    return None


@dataclass(frozen=True)
class ProductData:
    name: str
    manufacturer: str
    indications: str = ""
    registration_body: str = ""
    device_class: str = ""
    registration_number: str = ""
    low_stock_threshold_ml: Decimal | None = None
    active: bool = True


@dataclass(frozen=True)
class IngredientData:
    name: str
    concentration: str = ""


@dataclass(frozen=True)
class EvidenceData:
    kind: str
    url: str
    title: str = ""


def product_save(
    *,
    data: ProductData,
    ingredients: Sequence[IngredientData],
    evidence: Sequence[EvidenceData],
    product: Product | None = None,
    by: User | None = None,
) -> Product:
    """Create or update a product with its whole composition and evidence list."""
    names = [item.name.strip().lower() for item in ingredients]
    if len(set(names)) != len(names):
        raise DomainError("An ingredient is listed twice.", field="ingredients")
    duplicate = Product.objects.filter(
        name__iexact=data.name.strip(), manufacturer__iexact=data.manufacturer.strip()
    )
    if product is not None:
        duplicate = duplicate.exclude(pk=product.pk)
    if duplicate.exists():
        raise DomainError(
            "This product from this manufacturer is already in the register.", field="name"
        )
    try:
        with transaction.atomic():
            product = product or Product()
            for field, value in data.__dict__.items():
                setattr(product, field, value.strip() if isinstance(value, str) else value)
            product.save()
            product.ingredients.all().delete()
            Ingredient.objects.bulk_create(
                Ingredient(
                    product=product,
                    name=item.name.strip(),
                    concentration=item.concentration.strip(),
                    position=position,
                )
                for position, item in enumerate(ingredients)
            )
            product.evidence.all().delete()
            EvidenceLink.objects.bulk_create(
                EvidenceLink(product=product, kind=item.kind, url=item.url, title=item.title)
                for item in evidence
            )
    except IntegrityError as exc:
        # Two managers saving the same product at once: the unique constraint decides.
        raise DomainError(
            "This product from this manufacturer is already in the register.", field="name"
        ) from exc
    return product


def lot_receive(
    *,
    product: Product,
    lot_number: str,
    expiry_date: date,
    quantity_ml: Decimal,
    received_on: date,
    by: User | None = None,
) -> Lot:
    lot_number = lot_number.strip()
    if not lot_number:
        raise DomainError("Give the lot number printed on the box.", field="lot_number")
    if quantity_ml <= 0:
        raise DomainError("The quantity received must be more than 0 ml.", field="quantity_ml")
    if expiry_date < received_on:
        raise DomainError(
            "This lot had already expired when it was received; do not take it into stock.",
            field="expiry_date",
        )
    if Lot.objects.filter(product=product, lot_number__iexact=lot_number).exists():
        raise DomainError(
            f"Lot {lot_number} of {product.name} is already in stock.", field="lot_number"
        )
    try:
        with transaction.atomic():
            return Lot.objects.create(
                product=product,
                lot_number=lot_number,
                expiry_date=expiry_date,
                received_on=received_on,
                quantity_received_ml=quantity_ml,
                quantity_remaining_ml=quantity_ml,
                received_by=by if getattr(by, "pk", None) else None,
            )
    except IntegrityError as exc:
        raise DomainError(
            f"Lot {lot_number} of {product.name} is already in stock.", field="lot_number"
        ) from exc


def lot_use(*, lot: Lot, session: Session, volume_ml: Decimal, by: User | None = None) -> LotUsage:
    volume_ml = Decimal(volume_ml)
    if volume_ml <= 0:
        raise DomainError("The volume used must be more than 0 ml.", field="volume_ml")
    if volume_ml > MAX_VOLUME_ML:
        raise DomainError(
            f"{volume_ml} ml is more than one session can use (at most {MAX_VOLUME_ML} ml); "
            "check the figure.",
            field="volume_ml",
        )
    if session.status not in Session.ACTIVE:
        raise DomainError(
            f"This session is {session.get_status_display().lower()}; no product can be "
            "recorded against it.",
            field="lot",
        )
    with transaction.atomic():
        # The lock serialises concurrent uses of the same lot, so the stock check below holds
        # until commit; the check constraint on Lot is the backstop.
        # Only the lot row (of=self): select_related would lock the product row too, and
        # every record drawing on any lot of that product would queue behind it.
        locked = (
            Lot.objects.select_for_update(of=("self",)).select_related("product").get(pk=lot.pk)
        )
        reason = _not_usable_reason(locked.product)
        if reason:
            raise ProductNotUsable(reason, field="lot")
        session_day = session.starts_at.astimezone(clinic_zone()).date()
        if locked.expiry_date < session_day:
            raise LotExpired(
                f"Lot {locked.lot_number} of {locked.product.name} expired on "
                f"{locked.expiry_date:%d %b %Y}, before this session ({session_day:%d %b %Y}). "
                "Use an unexpired lot.",
                field="lot",
            )
        if locked.quantity_remaining_ml < volume_ml:
            raise InsufficientStock(
                f"Lot {locked.lot_number} of {locked.product.name} has only "
                f"{locked.quantity_remaining_ml} ml left; {volume_ml} ml was entered. "
                "Record the rest against another lot.",
                field="volume_ml",
            )
        Lot.objects.filter(pk=locked.pk).update(
            quantity_remaining_ml=F("quantity_remaining_ml") - volume_ml
        )
        usage = LotUsage.objects.create(
            lot=locked,
            session=session,
            volume_ml=volume_ml,
            recorded_by=by if getattr(by, "pk", None) else None,
        )
    lot.quantity_remaining_ml = locked.quantity_remaining_ml - volume_ml
    return usage


def lot_usage_reverse(*, usage: LotUsage, by: User | None = None) -> None:
    with transaction.atomic():
        # Lock and re-read the line: a double-clicked "remove" (or two screens) would otherwise
        # put the volume back twice from a stale object while the second delete did nothing.
        current = LotUsage.objects.select_for_update(of=("self",)).filter(pk=usage.pk).first()
        if current is None:
            raise DomainError("That product line was already removed; its volume is in stock.")
        # A single UPDATE ... SET x = x + v is atomic on the row; no read-modify-write race.
        Lot.objects.filter(pk=current.lot_id).update(
            quantity_remaining_ml=F("quantity_remaining_ml") + current.volume_ml
        )
        current.delete()
