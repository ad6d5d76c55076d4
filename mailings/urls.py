from django.urls import path

from mailings import views

app_name = "mailings"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
urlpatterns += __import__("mailings.engine_views", fromlist=["urlpatterns"]).urlpatterns  # sending engine
