"""The catalog pages' include / exclude buttons (apps/sync/publishing.py)."""

from django.urls import path

from apps.sync import publishing

app_name = "publishing"

urlpatterns = [
    path("catalog/publishing", publishing.set_filter, name="filter"),
    path("catalog/publishing/bulk", publishing.bulk_filter, name="bulk"),
]
