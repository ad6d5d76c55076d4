from django.urls import path

from mailings import views

app_name = "mailings"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
