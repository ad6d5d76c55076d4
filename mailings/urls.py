from django.urls import path, re_path

from mailings import client_views, message_views, views

app_name = "mailings"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/", client_views.client_list, name="client_list"),
    path("clients/new/", client_views.client_create, name="client_create"),
    path("clients/import/", client_views.client_import, name="client_import"),
    path("clients/export.csv", client_views.client_export, name="client_export"),
    path("clients/search.json", client_views.client_search, name="client_search"),
    path("clients/<int:pk>/edit/", client_views.client_update, name="client_update"),
    path("clients/<int:pk>/delete/", client_views.client_delete, name="client_delete"),
    path("messages/", views.message_list, name="message_list"),
    path("messages/new/", views.message_create, name="message_create"),
    path("messages/<int:pk>/", views.message_preview, name="message_preview"),
    path("messages/render/", message_views.message_render_draft, name="message_render_draft"),
    path("messages/<int:pk>/render/", message_views.message_render, name="message_render"),
    path("messages/<int:pk>/send-test/", message_views.message_send_test, name="message_send_test"),
    path("mailings/<int:pk>/send-test/", message_views.mailing_send_test, name="mailing_send_test"),
    re_path(
        r"^clients/(?P<pk>[0-9]+)/(?P<action>unsubscribe|resubscribe|clear-bounce)/$",
        message_views.client_subscription,
        name="client_subscription",
    ),
    path("messages/<int:pk>/edit/", views.message_update, name="message_update"),
    path("messages/<int:pk>/delete/", views.message_delete, name="message_delete"),
    path("mailings/", views.mailing_list, name="mailing_list"),
    path("mailings/new/", views.mailing_create, name="mailing_create"),
    path("mailings/<int:pk>/", views.mailing_detail, name="mailing_detail"),
    path("mailings/<int:pk>/edit/", views.mailing_update, name="mailing_update"),
    path("mailings/<int:pk>/delete/", views.mailing_delete, name="mailing_delete"),
    path("mailings/<int:pk>/progress/", views.mailing_progress, name="mailing_progress"),
    path("mailings/<int:pk>/control/<slug:action>/", views.mailing_action, name="mailing_action"),
    path("mailings/<int:pk>/attempts/", views.mailing_attempts, name="mailing_attempts"),
    path("mailings/<int:pk>/attempts.csv", views.mailing_attempts_export, name="mailing_attempts_export"),
    path("runs/<int:pk>/retry-failed/", views.run_retry_failed, name="run_retry_failed"),
    path("reports/", views.reports, name="reports"),
]
