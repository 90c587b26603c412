from django.core.management.base import BaseCommand, CommandError

from apps.connections.rotation import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt stored Evotor/VK tokens with the first key of TOKEN_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old keys."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = rotate_all(batch_size=batch_size)
        self.stdout.write(
            f"Rotated {result.rotated} token(s); {result.current} already used the newest key; "
            f"{result.failed} could not be decrypted with any configured key."
        )
        if result.failed:
            raise CommandError(
                f"{result.failed} token(s) could not be decrypted: a key they need is missing."
            )
