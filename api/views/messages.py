from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.mailings import MessageSerializer, PreviewParamsSerializer, PreviewSerializer
from api.views.base import CrudViewSet
from mailings import selectors, services
from mailings.models import Message


class MessageViewSet(CrudViewSet):
    """Your messages: the subject and text a mailing sends."""

    serializer_class = MessageSerializer
    model = Message

    def customer_queryset(self, user, perm):
        return selectors.owned_messages(user, perm=perm)

    def manager_queryset(self, user):
        return selectors.messages_for_user(user)

    def perform_create(self, serializer):
        serializer.instance = services.message_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        message = serializer.instance
        data = {"subject": message.subject, "body": message.body, **serializer.validated_data}
        serializer.instance = services.message_update(message=message, **data)

    def perform_destroy(self, instance):
        # A message in use by a mailing is a 400 with the service's reason.
        services.message_delete(message=instance)

    @extend_schema(parameters=[PreviewParamsSerializer], responses=PreviewSerializer)
    @action(detail=True, methods=["get"], serializer_class=PreviewSerializer)
    def preview(self, request, pk=None):
        """What one of your clients would receive."""
        message = self.get_object()
        params = PreviewParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        clients = selectors.owned_clients(message.owner)
        client = get_object_or_404(clients, pk=params.validated_data["client"])
        return Response(PreviewSerializer(selectors.message_preview(message, client)).data)
