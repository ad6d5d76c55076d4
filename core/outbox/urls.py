from django.urls import path

from core.outbox import views

app_name = "outbox"

urlpatterns = [
    path("", views.outbox_list, name="list"),
    path("<str:name>/", views.outbox_detail, name="detail"),
]
