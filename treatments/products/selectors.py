"""Reads for the product register, stock warnings and recalls; query counts stay flat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.conf import settings
from django.db.models import (
    BooleanField,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from treatments.selectors import clinic_zone

from .models import Lot, LotUsage, Product

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# Clinic default when a product has no threshold of its own; overridable in settings.
LOW_STOCK_DEFAULT_ML = Decimal(str(getattr(settings, "PRODUCTS_LOW_STOCK_DEFAULT_ML", "20")))
EXPIRY_WARNING_DAYS = 30


def clinic_today() -> date:
    return timezone.now().astimezone(clinic_zone()).date()


# A product line counts as used once its session's clinical record is signed. A draft (or a line
# with no record yet) may be for a session that has not happened: it is shown apart, never
# counted in stock nor in a recall's patients.
SIGNED_USE = Q(session__clinical_record__signed_at__isnull=False)
ML = DecimalField(max_digits=10, decimal_places=2)


class _Stock(TypedDict):
    stock_ml: Decimal
    draft_ml: Decimal


class _Signed(TypedDict):
    signed: bool


# Annotated rows (strings: WithAnnotations is for type checkers).
ProductWithStock: TypeAlias = "WithAnnotations[Product, _Stock]"
SignedUsage: TypeAlias = "WithAnnotations[LotUsage, _Signed]"


def _with_stock(products: QuerySet[Product], *, today: date) -> QuerySet[ProductWithStock]:
    """`stock_ml`: the volume left in the product's lots still usable on `today`, counting
    only signed records' use; `draft_ml`: the part of it held by unsigned drafts."""
    draft_use = (
        LotUsage.objects.filter(lot__product=OuterRef("pk"), lot__expiry_date__gte=today)
        .exclude(SIGNED_USE)
        .order_by()
        .values("lot__product")
        .annotate(total=Sum("volume_ml"))
        .values("total")
    )
    draft_ml = Coalesce(Subquery(draft_use, output_field=ML), Value(Decimal("0")), output_field=ML)
    remaining = Coalesce(
        Sum("lots__quantity_remaining_ml", filter=Q(lots__expiry_date__gte=today)),
        Value(Decimal("0")),
        output_field=ML,
    )
    # Meta.ordering is ignored by aggregate queries, so order explicitly.
    return (
        products.annotate(draft_ml=draft_ml)
        .annotate(stock_ml=ExpressionWrapper(remaining + F("draft_ml"), output_field=ML))
        .order_by("name", "manufacturer", "id")
    )


def products_list() -> QuerySet[ProductWithStock]:
    """The register with usable stock per product (unexpired lots only), in two queries."""
    return _with_stock(Product.objects.prefetch_related("ingredients"), today=clinic_today())


def product_detail(*, pk: int) -> Product:
    # Lots come in Meta.ordering: soonest expiry first.
    return Product.objects.prefetch_related("ingredients", "evidence", "lots").get(pk=pk)


def lots_usable(*, on: date | None = None) -> QuerySet[Lot]:
    """Lots that lot_use would accept on local day `on` (for the clinical record's lot picker)."""
    on = on or clinic_today()
    return (
        Lot.objects.filter(
            product__active=True,
            expiry_date__gte=on,
            quantity_remaining_ml__gt=0,
        )
        .exclude(product__registration_number="")
        .exclude(product__registration_body="")
        .select_related("product")
        .order_by("product__name", "expiry_date", "lot_number")
    )


@dataclass(frozen=True)
class LowStock:
    product: Product
    stock_ml: Decimal
    threshold_ml: Decimal


@dataclass(frozen=True)
class StockWarnings:
    low_stock: list[LowStock]
    expiring: list[Lot]
    expired_in_stock: list[Lot]
    today: date

    @property
    def count(self) -> int:
        return len(self.low_stock) + len(self.expiring) + len(self.expired_in_stock)


def stock_warnings(*, today: date | None = None) -> StockWarnings:
    """Low stock (active products below their threshold) and lots expiring within 30 days.

    Expired lots still holding stock are listed too: they should be taken off the shelf.
    Two queries whatever the number of products and lots.
    """
    today = today or clinic_today()
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    low: list[LowStock] = []
    for product in _with_stock(Product.objects.filter(active=True), today=today):
        threshold = (
            product.low_stock_threshold_ml
            if product.low_stock_threshold_ml is not None
            else LOW_STOCK_DEFAULT_ML
        )
        if product.stock_ml < threshold:
            low.append(LowStock(product=product, stock_ml=product.stock_ml, threshold_ml=threshold))
    lots = list(
        Lot.objects.filter(quantity_remaining_ml__gt=0, expiry_date__lte=horizon)
        .select_related("product")
        .order_by("expiry_date", "product__name", "lot_number")
    )
    return StockWarnings(
        low_stock=low,
        expiring=[lot for lot in lots if lot.expiry_date >= today],
        expired_in_stock=[lot for lot in lots if lot.expiry_date < today],
        today=today,
    )


def lots_search(*, query: str) -> QuerySet[Lot]:
    query = query.strip()
    return (
        Lot.objects.filter(Q(lot_number__icontains=query) | Q(product__name__icontains=query))
        .select_related("product")
        .order_by("product__name", "lot_number")[:50]
    )


def lot_recall(*, lot: Lot) -> list[SignedUsage]:
    """Every use of `lot`: patient with contact details, session, practitioner. One query.

    Each line carries `signed`: whether its session's clinical record is signed (see SIGNED_USE).
    """
    return list(
        LotUsage.objects.filter(lot=lot)
        .annotate(signed=ExpressionWrapper(SIGNED_USE, output_field=BooleanField()))
        .select_related(
            "session__patient",
            "session__session_type",
            "session__practitioner__user",
            "session__room",
        )
        .order_by("session__starts_at", "id")
    )
