"""Container health probe: ``python -m evosync.healthcheck`` exits 0 when /health answers 200.

Standard library only and no Django start-up, because Docker runs it every 30 seconds. It sends
the first concrete name from ALLOWED_HOSTS as the Host header: in production ALLOWED_HOSTS names
the public domain, and a request for 127.0.0.1 would be refused with 400 (DisallowedHost).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    for host in (item.strip() for item in allowed_hosts.split(",")):
        if host and host != "*":
            return host.lstrip(".")  # ".example.com" allows example.com and its subdomains
    return "localhost"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    port = os.environ.get("PORT", "8000")
    url = argv[0] if argv else f"http://127.0.0.1:{port}/health"
    request = urllib.request.Request(  # noqa: S310 - the URL is ours (loopback or an argument)
        url,
        headers={
            "Host": probe_host(os.environ.get("ALLOWED_HOSTS", "")),
            "X-Forwarded-Proto": "https",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"health check failed: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
