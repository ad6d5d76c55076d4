from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from api.views.accounts import UserViewSet
from api.views.clients import ClientViewSet
from api.views.docs import ApiDocsView
from api.views.mailings import MailingViewSet
from api.views.messages import MessageViewSet
from api.views.reports import ReportView
from api.views.runs import AttemptViewSet, RunViewSet

app_name = "api"

router = SimpleRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("messages", MessageViewSet, basename="message")
router.register("mailings", MailingViewSet, basename="mailing")
router.register("runs", RunViewSet, basename="run")
router.register("attempts", AttemptViewSet, basename="attempt")
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(), name="docs"),
    path("reports/", ReportView.as_view(), name="reports"),
    path("", include(router.urls)),
]
