from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from api.exceptions import Conflict
from api.permissions import CustomersOnly, HasPerm, IsVerifiedUser
from api.serializers.mailings import MailingSerializer, ReasonSerializer
from api.views.base import CrudViewSet
from mailings import selectors, services, transitions
from mailings.models import Mailing

DISABLE_PERMS = [IsVerifiedUser, HasPerm.of("mailings.disable_mailing")]
OWNER_PERMS = [IsVerifiedUser, CustomersOnly]


def _missing(field, message):
    return serializers.ValidationError({field: [serializers.ErrorDetail(message, code="does_not_exist")]})


class MailingViewSet(CrudViewSet):
    """Your mailings, each with the reports page's numbers in `stats`."""

    serializer_class = MailingSerializer
    model = Mailing

    def customer_queryset(self, user, perm):
        return selectors.with_stats(selectors.owned_mailings(user, perm=perm))

    def manager_queryset(self, user):
        return selectors.with_stats(selectors.mailings_for_user(user))

    def _service_kwargs(self, data, mailing=None):
        """The services' arguments: the message and clients looked up among the user's own."""
        user = self.request.user
        message_id = data.get("message_id", mailing.message_id if mailing else None)
        message = selectors.owned_messages(user).filter(pk=message_id).first()
        if message is None:
            raise _missing("message", _("You have no message with this id."))
        kwargs = {
            "message": message,
            "start_at": data.get("start_at", getattr(mailing, "start_at", None)),
            "end_at": data.get("end_at", getattr(mailing, "end_at", None)),
            "periodicity": data.get("periodicity", getattr(mailing, "periodicity", None)),
            "all_clients": data.get("all_clients", False),
        }
        if kwargs["all_clients"]:
            return kwargs
        if "clients" in data:
            ids = set(data["clients"])
            clients = list(selectors.owned_clients(user).filter(pk__in=ids).only("pk", "owner_id"))
            if len(clients) != len(ids):
                unknown = sorted(ids - {c.pk for c in clients})[:20]
                raise _missing(
                    "clients",
                    _("You have no clients with these ids: %(ids)s") % {"ids": ", ".join(map(str, unknown))},
                )
            kwargs["clients"] = clients
        elif mailing is not None:
            kwargs["clients"] = list(mailing.clients.only("pk", "owner_id"))
        return kwargs

    def _respond(self, mailing, status=200):
        fresh = selectors.with_stats(selectors.owned_mailings(self.request.user)).get(pk=mailing.pk)
        return Response(self.get_serializer(fresh).data, status=status)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mailing = services.mailing_create(owner=request.user, **self._service_kwargs(serializer.validated_data))
        return self._respond(mailing, status=201)

    def update(self, request, pk=None, partial=False):
        mailing = self.get_object()
        serializer = self.get_serializer(mailing, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.mailing_update(mailing=mailing, **self._service_kwargs(serializer.validated_data, mailing))
        return self._respond(mailing)

    def perform_destroy(self, instance):
        services.mailing_delete(mailing=instance)

    # --- The owner's controls, as on the mailing page (409 where the status does not allow one).

    def _control(self, service):
        mailing = self.get_object()
        try:
            service(mailing=mailing)
        except transitions.TransitionError as exc:
            raise Conflict(exc.messages[0], code=exc.code or "not_allowed") from exc
        return self._respond(mailing)

    @extend_schema(request=None, responses=MailingSerializer)
    @action(detail=True, methods=["post"], url_path="start-now", permission_classes=OWNER_PERMS)
    def start_now(self, request, pk=None):
        """A created mailing whose start is in the future starts now (its end stays)."""
        return self._control(services.mailing_start_now)

    @extend_schema(request=None, responses=MailingSerializer)
    @action(detail=True, methods=["post"], permission_classes=OWNER_PERMS)
    def pause(self, request, pk=None):
        """Stop claiming new recipients within seconds; those on the wire finish."""
        return self._control(services.mailing_pause)

    @extend_schema(request=None, responses=MailingSerializer)
    @action(detail=True, methods=["post"], permission_classes=OWNER_PERMS)
    def resume(self, request, pk=None):
        """Continue a paused mailing where it stopped: nobody is sent twice."""
        return self._control(services.mailing_resume)

    @extend_schema(request=None, responses=MailingSerializer)
    @action(detail=True, methods=["post"], permission_classes=OWNER_PERMS)
    def cancel(self, request, pk=None):
        """Stop for good: the rest is recorded as not sent ("cancelled by the owner")."""
        return self._control(services.mailing_cancel)

    # --- Managers' actions, as in the admin (a reason is required to disable).

    @extend_schema(request=ReasonSerializer, responses=MailingSerializer)
    @action(detail=True, methods=["post"], permission_classes=DISABLE_PERMS)
    def disable(self, request, pk=None):
        """Managers: stop the mailing; the owner sees the reason."""
        mailing = self.get_object()
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        if not mailing.is_active:
            raise Conflict(_("This mailing is already disabled."), code="already_disabled")
        services.mailing_disable(mailing=mailing, by=request.user, reason=reason.validated_data["reason"])
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses=MailingSerializer)
    @action(detail=True, methods=["post"], permission_classes=DISABLE_PERMS)
    def enable(self, request, pk=None):
        """Managers: let a disabled mailing resume its schedule."""
        mailing = self.get_object()
        if mailing.is_active:
            raise Conflict(_("This mailing is already enabled."), code="already_enabled")
        services.mailing_enable(mailing=mailing, by=request.user)
        return Response(self.get_serializer(self.get_object()).data)
