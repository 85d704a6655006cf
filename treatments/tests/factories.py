import datetime as dt

import factory
from django.contrib.auth.models import Group, User

from mesoclinic.access import Role
from patients.tests.factories import PatientFactory
from treatments.models import Room, Session, SessionType, StaffProfile, WorkingHours


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@clinic.test")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=Role(extracted).value)[0])


class StaffProfileFactory(factory.django.DjangoModelFactory[StaffProfile]):
    class Meta:
        model = StaffProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=Role.PRACTITIONER)
    qualification = StaffProfile.Qualification.DOCTOR
    registration_body = "GMC"
    registration_number = factory.Sequence(lambda n: f"GMC{n:07d}")
    bookable = True

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        """Working every day 08:00-20:00 unless hours=False is passed."""
        if create and extracted is not False:
            WorkingHours.objects.bulk_create(
                WorkingHours(staff=self, weekday=day, starts=dt.time(8), ends=dt.time(20))
                for day in range(7)
            )


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Room {n + 1}")


class SessionTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionType
        django_get_or_create = ("name",)

    name = "Face"
    duration_minutes = 45
    buffer_minutes = 15
    medical_only = True


class SessionFactory(factory.django.DjangoModelFactory[Session]):
    """A session written directly (no service): for fixtures and bulk data only."""

    class Meta:
        model = Session

    patient = factory.SubFactory(PatientFactory)
    session_type = factory.SubFactory(SessionTypeFactory)
    practitioner = factory.SubFactory(StaffProfileFactory)
    room = factory.SubFactory(RoomFactory)
    starts_at = factory.LazyFunction(
        lambda: dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + o.session_type.duration)
    blocked_until = factory.LazyAttribute(lambda o: o.ends_at + o.session_type.buffer)
