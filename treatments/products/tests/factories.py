import datetime as dt
from decimal import Decimal

import factory

from treatments.products.models import Ingredient, Lot, Product


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Cocktail {n}")
    manufacturer = "Meso Labs"
    indications = "Skin rejuvenation and hydration"
    registration_body = "MHRA"
    device_class = Product.DeviceClass.III
    registration_number = factory.Sequence(lambda n: f"CE-{n:06d}")
    active = True


class IngredientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ingredient

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Ingredient {n}")
    concentration = ""


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    product = factory.SubFactory(ProductFactory)
    lot_number = factory.Sequence(lambda n: f"L{n:05d}")
    expiry_date = factory.LazyFunction(lambda: _today() + dt.timedelta(days=3650))
    received_on = factory.LazyFunction(_today)
    quantity_received_ml = Decimal("50.00")
    quantity_remaining_ml = factory.LazyAttribute(lambda o: o.quantity_received_ml)
