"""Shared HTTP plumbing: one ``requests.Session`` per client, timeouts, bounded jittered retries.

Nothing here knows a provider. Each client owns one :class:`HttpTransport`, classifies replies
into :mod:`errors` itself, and hands the transport a callable to repeat.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from .errors import ApiError, RateLimitError, TransientError, redact

DEFAULT_USER_AGENT = "EvoSync/1.0 (+https://github.com/evosync)"
# (connect, read) seconds. Provider pages of 1000 products can take a while to render.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)

Timeout = float | tuple[float, float]
Sleep = Callable[[float], None]
Clock = Callable[[], float]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential back-off with jitter.

    ``max_attempts`` counts the first try. ``max_wait`` caps how long we honour a provider's
    "come back in N seconds": a longer wait is not slept through, the RateLimitError is raised so
    that the job layer can reschedule instead of holding a worker.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """Delay before try ``attempt + 1``: half fixed, half random, so workers spread out."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * rand()


NO_RETRY = RetryPolicy(max_attempts=1)


def validate_timeout(timeout: Timeout) -> Timeout:
    """Refuse a missing or non-positive timeout: every outbound call must be bounded."""
    parts = timeout if isinstance(timeout, tuple) else (timeout,)
    if not parts or any(p is None or p <= 0 for p in parts):
        raise ValueError("a positive timeout is mandatory")
    return timeout


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request surely did not reach the server (so repeating it cannot duplicate)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class HttpTransport:
    """Sends requests for one client: fixed session, headers, timeout, retry loop, counters."""

    def __init__(
        self,
        *,
        service: str,
        user_agent: str,
        timeout: Timeout,
        retry: RetryPolicy,
        sleep: Sleep,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        if not user_agent:
            raise ValueError("a User-Agent is mandatory")
        self.service = service
        self.timeout = validate_timeout(timeout)
        self.retry = retry
        self.sleep = sleep
        self.rand = rand
        self.session = session if session is not None else requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.secrets = tuple(s for s in secrets if s)
        self.requests_made = 0

    def scrub(self, message: str) -> str:
        """Remove this client's secrets from a text that may echo them."""
        return redact(message, self.secrets)

    def send(
        self, http_method: str, url: str, *, op: str, idempotent: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One HTTP exchange with the mandatory timeout; network failures become TransientError.

        A non-idempotent request that may have reached the server (read timeout, dropped
        connection) is raised as non-retryable: repeating it could apply it twice.
        """
        self.requests_made += 1
        try:
            return self.session.request(http_method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            retryable = idempotent or never_sent(exc)
            raise self.transient(f"timed out ({type(exc).__name__})", op, retryable) from exc
        except requests.ConnectionError as exc:
            retryable = idempotent or never_sent(exc)
            raise self.transient("connection failed", op, retryable) from exc
        except requests.RequestException as exc:
            raise TransientError(
                self.scrub(f"request failed: {type(exc).__name__}"),
                service=self.service,
                method=op,
                retryable=False,
            ) from exc

    def transient(self, message: str, op: str, retryable: bool = True) -> TransientError:
        return TransientError(message, service=self.service, method=op, retryable=retryable)

    def with_retries(self, attempt_once: Callable[[], T]) -> T:
        """Run ``attempt_once`` until it succeeds, fails for good, or the attempts run out."""
        attempt = 1
        while True:
            try:
                return attempt_once()
            except TransientError as exc:
                delay = self._delay_before_retry(exc, attempt)
                if delay is None:
                    raise
            self.sleep(delay)
            attempt += 1

    def _delay_before_retry(self, exc: ApiError, attempt: int) -> float | None:
        if not exc.retryable or attempt >= self.retry.max_attempts:
            return None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            if exc.retry_after > self.retry.max_wait:
                return None
            # A little jitter so that workers sharing a window do not all return at once.
            return exc.retry_after + self.retry.base_delay * self.rand()
        return self.retry.backoff(attempt, self.rand)


def json_body(response: requests.Response) -> Any:
    """Parsed JSON body, or raise ValueError (callers wrap it in ResponseFormatError)."""
    if not response.content:
        raise ValueError("empty body")
    return response.json()
