from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import IsVerifiedUser, is_manager
from api.serializers.mailings import ReportTotalsSerializer
from mailings import selectors


class ReportView(APIView):
    """The reports page's totals over all your runs (managers: over every run).
    Each mailing's own numbers are its `stats` in the mailings list."""

    permission_classes = [IsVerifiedUser]

    @extend_schema(responses=ReportTotalsSerializer)
    def get(self, request):
        user = request.user
        runs = selectors.runs_for_user(user) if is_manager(user) else selectors.owned_runs(user)
        return Response(ReportTotalsSerializer(selectors.run_totals(runs)).data)
