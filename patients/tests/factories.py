import datetime as dt

import factory

from patients.models import Patient, phone_digits


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker(
        "date_between_dates",
        date_start=dt.date(1950, 1, 1),
        date_end=dt.date(2004, 12, 31),
    )
    email = factory.Sequence(lambda n: f"patient{n}@example.test")
    phone = factory.Sequence(lambda n: f"+44 7700 9{n:05d}")
    phone_digits = factory.LazyAttribute(lambda o: phone_digits(o.phone))
    email_reminders_consent = True
