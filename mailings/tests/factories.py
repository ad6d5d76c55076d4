from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from mailings.models import Client, Mailing, Message, Periodicity
from mailings.services import grant_owner_perms


class OwnedFactory(factory.django.DjangoModelFactory):
    """Owned objects get the owner's guardian permissions, as the services give them."""

    class Meta:
        abstract = True
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def _perms(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            grant_owner_perms(obj, obj.owner)


class ClientFactory(OwnedFactory):
    class Meta:
        model = Client

    email = factory.Sequence(lambda n: f"client{n}@example.org")
    full_name = factory.Faker("name")


class MessageFactory(OwnedFactory):
    class Meta:
        model = Message

    subject = factory.Sequence(lambda n: f"News {n}")
    body = "Hello,\n\nHere is our news.\n"


class MailingFactory(OwnedFactory):
    class Meta:
        model = Mailing

    message = factory.SubFactory(MessageFactory, owner=factory.SelfAttribute("..owner"))
    start_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    end_at = factory.LazyAttribute(lambda o: o.start_at + timedelta(days=30))
    periodicity = Periodicity.ONCE

    @factory.post_generation
    def clients(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.clients.set(extracted)
