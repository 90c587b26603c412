"""gunicorn settings for the container (read automatically from the working directory)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "2"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
# Evotor gives up on a webhook after 15 s; a slow client must not hold a worker for longer.
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# Workers fork from a master that has imported Django already: a worker replaced after
# max_requests starts in milliseconds, instead of ~0.5 s of CPU importing the project while the
# others carry its share (at 300 webhook deliveries/s, one replacement every ~7 s). Importing
# opens no database or cache connection (the apps' ready() only connect signals), so no socket
# is shared across the fork.
preload_app = True
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")


def when_ready(server):
    """In the master, after the preload and before the first fork: import the URLconf (every
    view module) and load the translations, which Django otherwise does at each worker's first
    request (~45 ms of CPU, while the requests that worker accepted wait). Then freeze what the
    master holds out of the garbage collector's reach, so that a worker's collections do not
    write to (and copy) every page it shares with the master (the gc.freeze() documentation)."""
    if not server.cfg.preload_app:
        return
    import gc

    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - evaluated for its imports
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pass
    gc.freeze()
