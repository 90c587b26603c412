"""Merchant sync pages. Only a run's id appears in a path, always looked up through the user."""

from django.urls import path

from apps.sync import views

app_name = "sync"

urlpatterns = [
    path("sync", views.settings_page, name="settings"),
    path("sync/example", views.example, name="example"),
    path("sync/preview", views.preview, name="preview"),
    path("sync/enable", views.enable, name="enable"),
    path("sync/disable", views.disable, name="disable"),
    path("sync/resume", views.resume, name="resume"),
    path("sync/run", views.sync_now, name="run"),
    path("sync/jobs", views.jobs, name="jobs"),
    path("sync/jobs/<int:pk>", views.job_detail, name="job"),
    path("sync/jobs/<int:pk>/progress", views.job_progress, name="job_progress"),
    path("sync/jobs/<int:pk>/retry", views.job_retry, name="job_retry"),
]
