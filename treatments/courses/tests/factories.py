import factory

from patients.tests.factories import PatientFactory
from treatments.courses.models import Course, CourseStep, Protocol
from treatments.tests.factories import SessionTypeFactory, StaffProfileFactory


class ProtocolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Protocol
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Protocol {n}")
    indication = Protocol.Indication.SKIN
    sessions_count = 4
    interval_min_days = 14
    interval_max_days = 21
    maintenance_interval_days = 90
    default_session_type = factory.SubFactory(SessionTypeFactory)


class CourseFactory(factory.django.DjangoModelFactory):
    """A course with its steps, written directly (the service is tested on its own)."""

    class Meta:
        model = Course
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    protocol = factory.SubFactory(ProtocolFactory)
    practitioner = factory.SubFactory(StaffProfileFactory)
    session_type = factory.LazyAttribute(lambda o: o.protocol.default_session_type)
    sessions_count = factory.LazyAttribute(lambda o: o.protocol.sessions_count)
    interval_min_days = factory.LazyAttribute(lambda o: o.protocol.interval_min_days)
    interval_max_days = factory.LazyAttribute(lambda o: o.protocol.interval_max_days)
    maintenance_interval_days = factory.LazyAttribute(
        lambda o: o.protocol.maintenance_interval_days
    )

    @factory.post_generation
    def steps(self, create, extracted, **kwargs):
        if create:
            CourseStep.objects.bulk_create(
                CourseStep(course=self, number=n) for n in range(1, self.sessions_count + 1)
            )
