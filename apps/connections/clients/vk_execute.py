"""VKScript for ``execute`` batches and the mapping of its partial-failure replies
(docs/vk.md#execute).

A batch ``return [API.a({...}), API.b({...})];`` always succeeds as a whole (unless the script
itself fails, which is an ordinary top-level error). Each failed inner call leaves ``false`` at
its position and adds ``{"method", "error_code", "error_msg"}`` to ``execute_errors``, in order.
We pair them in order but check the method name, and degrade to a generic per-call error rather
than misattribute when VK's list does not line up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ApiError, ItemError, ResponseFormatError, redact
from .parsing import MalformedPayload, as_list, as_mapping, opt_str
from .vk_calls import VkCall, VkCallResult, script_value
from .vk_errors import SERVICE, vk_error

MAX_CALLS_PER_EXECUTE = 25


def build_code(calls: Sequence[VkCall]) -> str:
    """``return [API.m1({...}), ...];`` with every argument JSON-encoded (no code injection)."""
    if not 0 < len(calls) <= MAX_CALLS_PER_EXECUTE:
        raise ValueError(f"execute takes 1..{MAX_CALLS_PER_EXECUTE} calls, got {len(calls)}")
    parts = []
    for call in calls:
        args = {key: script_value(value) for key, value in call.params.items()}
        encoded = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
        parts.append(f"API.{call.method}({encoded})")
    return f"return [{','.join(parts)}];"


def chunks(calls: Sequence[VkCall], size: int = MAX_CALLS_PER_EXECUTE) -> list[list[VkCall]]:
    return [list(calls[i : i + size]) for i in range(0, len(calls), size)]


def map_results(
    calls: Sequence[VkCall], body: Mapping[str, Any], *, secrets: tuple[str, ...]
) -> list[VkCallResult]:
    """Pair each call with its value or error from an execute reply body."""
    values = body.get("response")
    if not isinstance(values, list):
        error = ResponseFormatError(
            "execute did not return an array", service=SERVICE, method="execute"
        )
        return [VkCallResult(call, error=error) for call in calls]
    pairing = _ErrorPairing(
        [as_mapping(e) for e in as_list(body.get("execute_errors"))],
        failures=sum(1 for v in values[: len(calls)] if v is False),
    )
    results = []
    for index, call in enumerate(calls):
        if index >= len(values):
            results.append(VkCallResult(call, error=_missing(call)))
        elif values[index] is False:
            results.append(VkCallResult(call, error=pairing.error_for(call, secrets)))
        else:
            results.append(_parsed(call, values[index], secrets))
    return results


class _ErrorPairing:
    """Hands out ``execute_errors`` entries to the failed calls, in order, by method name.

    When names do not match (VK spelling them differently) but there is exactly one entry per
    ``false``, order alone is trusted; otherwise an unmatched failure gets a generic ItemError.
    """

    def __init__(self, errors: list[Mapping[str, Any]], *, failures: int) -> None:
        self._errors = errors
        self._used: set[int] = set()
        self._positional = len(errors) == failures

    def error_for(self, call: VkCall, secrets: tuple[str, ...]) -> ApiError:
        position = self._by_method(call.method)
        if position is None and self._positional:
            position = next((i for i in range(len(self._errors)) if i not in self._used), None)
        if position is None:
            return ItemError(
                "execute returned false without error details", service=SERVICE, method=call.method
            )
        self._used.add(position)
        return vk_error(self._errors[position], method=call.method, secrets=secrets)

    def _by_method(self, method: str) -> int | None:
        for position, entry in enumerate(self._errors):
            if position in self._used:
                continue
            named = opt_str(entry.get("method"))
            if named is None or _normal(named) == _normal(method):
                return position
        return None


def _normal(method: str) -> str:
    return method.strip().lower().removeprefix("api.")


def _parsed(call: VkCall, value: Any, secrets: tuple[str, ...]) -> VkCallResult:
    try:
        return VkCallResult(call, value=call.parse(value))
    except MalformedPayload as exc:
        message = redact(f"unexpected reply: {exc}", secrets)
        error = ResponseFormatError(message, service=SERVICE, method=call.method)
        return VkCallResult(call, error=error)


def _missing(call: VkCall) -> ApiError:
    return ResponseFormatError(
        "execute returned fewer results than calls", service=SERVICE, method=call.method
    )
