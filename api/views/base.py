"""What every resource shares: the queryset by role, strict query filters."""

from rest_framework import exceptions, mixins, viewsets

from api.pagination import IdCursorPagination
from api.permissions import IsVerifiedUser, ManagersReadOnly, is_manager

# The object permission a customer needs for each action (guardian codenames).
ACTION_PERMS = {
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "retry_failed": "change",
    "start_now": "change",
    "pause": "change",
    "resume": "change",
    "cancel": "change",
}


class RoleScopedViewSet(viewsets.GenericViewSet):
    """Customers see what they own (the `owned_*` selectors, as on their screens);
    managers see everything (the `*_for_user` selectors, as in the admin), read-only.
    Another owner's object is not in the queryset: a 404, never a 403."""

    permission_classes = [IsVerifiedUser, ManagersReadOnly]
    pagination_class = IdCursorPagination
    lookup_value_regex = r"[0-9]+"
    filter_serializer_class = None
    model = None

    def customer_queryset(self, user, perm):
        raise NotImplementedError

    def manager_queryset(self, user):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting
            return self.model.objects.none()
        user = self.request.user
        if is_manager(user):
            return self.manager_queryset(user)
        return self.customer_queryset(user, ACTION_PERMS.get(self.action, "view"))

    def filter_params(self) -> dict:
        """The list's query parameters, validated: a bad one is a 400 with field errors."""
        if self.filter_serializer_class is None:
            return {}
        # A plain dict, not the QueryDict: DRF reads a missing boolean in form data as False.
        serializer = self.filter_serializer_class(data=self.request.query_params.dict())
        if not serializer.is_valid():
            raise exceptions.ValidationError(serializer.errors)
        return {key: value for key, value in serializer.validated_data.items() if value is not None}

    def paginated(self, queryset):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class FilteredListMixin:
    """A list filtered by validated query parameters: `filter_lookups` maps each
    parameter of `filter_serializer_class` to its queryset lookup."""

    filter_lookups: dict[str, str] = {}

    def list(self, request):
        params = self.filter_params()
        queryset = self.get_queryset().filter(**{self.filter_lookups[key]: value for key, value in params.items()})
        return self.paginated(queryset)


class CrudViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RoleScopedViewSet,
):
    """List, read, create, replace, update and delete: what customers do with what they own."""
