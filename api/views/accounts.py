"""Managers' read-only list of users, with block and unblock as in the admin."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import selectors, services
from accounts.models import User
from api.exceptions import Conflict
from api.permissions import HasPerm, IsVerifiedUser
from api.serializers.mailings import ReasonSerializer
from api.serializers.users import UserSerializer
from api.views.base import RoleScopedViewSet

VIEW_USERS = [IsVerifiedUser, HasPerm.of("accounts.view_user")]
BLOCK_USERS = [IsVerifiedUser, HasPerm.of("accounts.block_user")]


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoleScopedViewSet):
    """Managers only: every user, with the number of their mailings."""

    serializer_class = UserSerializer
    permission_classes = VIEW_USERS
    model = User

    def customer_queryset(self, user, perm):
        return User.objects.none()

    def manager_queryset(self, user):
        return selectors.users_for_admin(user)

    def _target(self):
        target = self.get_object()
        if not selectors.may_block(self.request.user, target):
            raise exceptions.PermissionDenied(_("You cannot block or unblock this user."))
        return target

    @extend_schema(request=ReasonSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"], permission_classes=BLOCK_USERS)
    def block(self, request, pk=None):
        """A blocked user cannot log in or use the API, and their mailings send nothing more."""
        target = self._target()
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        if target.is_blocked:
            raise Conflict(_("This user is already blocked."), code="already_blocked")
        services.user_block(user=target, by=request.user, reason=reason.validated_data["reason"])
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"], permission_classes=BLOCK_USERS)
    def unblock(self, request, pk=None):
        target = self._target()
        if not target.is_blocked:
            raise Conflict(_("This user is not blocked."), code="not_blocked")
        services.user_unblock(user=target, by=request.user)
        return Response(self.get_serializer(self.get_object()).data)
