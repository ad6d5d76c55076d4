from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from api.pagination import NewestFirstPagination
from api.permissions import CustomersOnly, IsVerifiedUser
from api.serializers.mailings import (
    AttemptFilterSerializer,
    AttemptSerializer,
    RetryResultSerializer,
    RunFilterSerializer,
    RunSerializer,
)
from api.views.base import FilteredListMixin, RoleScopedViewSet
from mailings import selectors, services
from mailings.models import Attempt, Run

RUN_FILTERS = {
    "mailing": "mailing_id",
    "status": "status",
    "started_after": "started_at__gte",
    "started_before": "started_at__lt",
}
ATTEMPT_FILTERS = {
    "mailing": "mailing_id",
    "run": "run_id",
    "status": "status",
    "since": "attempted_at__gte",
    "until": "attempted_at__lt",
}


@extend_schema_view(list=extend_schema(parameters=[RunFilterSerializer]))
class RunViewSet(FilteredListMixin, mixins.RetrieveModelMixin, RoleScopedViewSet):
    """Each sending of a mailing, newest first, with its counters."""

    serializer_class = RunSerializer
    filter_serializer_class = RunFilterSerializer
    filter_lookups = RUN_FILTERS
    pagination_class = NewestFirstPagination
    model = Run

    def customer_queryset(self, user, perm):
        # Acting on a run (retry) needs the change permission on its mailing.
        return selectors.owned_runs(user, perm=perm)

    def manager_queryset(self, user):
        return selectors.runs_for_user(user)

    @extend_schema(request=None, responses=RetryResultSerializer)
    @action(detail=True, methods=["post"], url_path="retry-failed", permission_classes=[IsVerifiedUser, CustomersOnly])
    def retry_failed(self, request, pk=None):
        """Send again, in this finished run, to the recipients whose last attempt failed
        (0 if the run is not finished or none failed)."""
        run = self.get_object()
        return Response({"count": services.run_retry_failed(run=run)})


@extend_schema_view(list=extend_schema(parameters=[AttemptFilterSerializer]))
class AttemptViewSet(FilteredListMixin, mixins.RetrieveModelMixin, RoleScopedViewSet):
    """Every try at sending to one recipient, with the mail server's reply; newest first."""

    serializer_class = AttemptSerializer
    filter_serializer_class = AttemptFilterSerializer
    filter_lookups = ATTEMPT_FILTERS
    pagination_class = NewestFirstPagination
    model = Attempt

    def customer_queryset(self, user, perm):
        return selectors.owned_attempts(user)

    def manager_queryset(self, user):
        return selectors.attempts_for_user(user)
