from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.exceptions import Conflict
from api.permissions import CustomersOnly, IsVerifiedUser
from api.serializers.clients import (
    BulkClientRowSerializer,
    BulkReportSerializer,
    BulkUpsertSerializer,
    ClientFilterSerializer,
    ClientSerializer,
)
from api.throttling import BulkRateThrottle, TokenRateThrottle
from api.views.base import CrudViewSet
from mailings import selectors, services
from mailings.models import Client


class BulkUpsertRequestSerializer(BulkUpsertSerializer):
    """The bulk upsert's documented body (rows are validated one by one, not by this)."""

    clients = BulkClientRowSerializer(many=True)


def _email_error(exc: DjangoValidationError):
    return serializers.ValidationError({"email": [serializers.ErrorDetail(exc.messages[0], code=exc.code)]})


@extend_schema_view(list=extend_schema(parameters=[ClientFilterSerializer]))
class ClientViewSet(CrudViewSet):
    """Your clients: the people your mailings go to."""

    serializer_class = ClientSerializer
    filter_serializer_class = ClientFilterSerializer
    model = Client

    def customer_queryset(self, user, perm):
        return selectors.owned_clients(user, perm=perm)

    def manager_queryset(self, user):
        return selectors.clients_for_user(user)

    def list(self, request):
        return self.paginated(selectors.clients_filter(self.get_queryset(), **self.filter_params()))

    def perform_create(self, serializer):
        try:
            serializer.instance = services.client_create(owner=self.request.user, **serializer.validated_data)
        except services.DuplicateClientError as exc:
            raise _email_error(exc) from exc

    def perform_update(self, serializer):
        client = serializer.instance
        data = {"email": client.email, "full_name": client.full_name, "comment": client.comment}
        data.update(serializer.validated_data)
        try:
            serializer.instance = services.client_update(client=client, **data)
        except services.DuplicateClientError as exc:
            raise _email_error(exc) from exc

    def perform_destroy(self, instance):
        services.client_delete(client=instance)

    @extend_schema(
        request=BulkUpsertRequestSerializer,
        responses={200: BulkReportSerializer, 409: OpenApiResponse(description=_("Your clients changed meanwhile."))},
        summary="Create or update up to 10,000 clients",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk",
        permission_classes=[IsVerifiedUser, CustomersOnly],
        throttle_classes=[TokenRateThrottle, BulkRateThrottle],
    )
    def bulk(self, request):
        """Good rows are written in one transaction, exactly as the CSV import writes them;
        each bad row is reported with its position, and the others are still written."""
        params = BulkUpsertSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        report = services.clients_upsert(
            owner=request.user, rows=params.validated_data["clients"], on_existing=params.validated_data["on_existing"]
        )
        if report.fatal:
            raise Conflict(report.fatal)
        body = {
            "created": report.created,
            "updated": report.updated,
            "skipped": report.skipped,
            "error_count": report.error_count,
            "errors": [
                {"index": e.line, "field": e.field, "code": e.code, "message": e.reason, "value": e.value}
                for e in report.errors
            ],
        }
        return Response(body, status=status.HTTP_200_OK)
