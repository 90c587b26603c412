from django.apps import AppConfig


class EvosyncConfig(AppConfig):
    """Project-level pieces: system checks, /health, schedules and ops commands."""

    name = "evosync"
    verbose_name = "EvoSync"

    def ready(self) -> None:
        # Registering checks is declaration, not work: no queries, no schedules here.
        from evosync import checks  # noqa: F401
