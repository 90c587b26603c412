"""``execute`` with the VKScript subset a batcher sends (docs/vk.md#execute).

Accepted: ``return [API.a.b({...}), API.c.d({...}), ...];`` or ``return API.a.b({...});`` where
each argument object is a JSON literal; plain JSON values may stand in the array too. Anything
else is error 12. More than 25 API calls is error 13. Each inner call runs on its own: a
failure leaves ``false`` at its position and adds ``{method, error_code, error_msg}`` to
``execute_errors``, in order, while the other calls go through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .vk_errors import VkApiError

MAX_CALLS = 25
_RETURN = re.compile(r"\s*return\b\s*")
_CALL = re.compile(r"API\.([A-Za-z]+\.[A-Za-z]+)\s*\(\s*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, str]


@dataclass(frozen=True)
class Script:
    elements: list[Call | Any]
    is_list: bool

    @property
    def calls(self) -> int:
        return sum(1 for element in self.elements if isinstance(element, Call))


@dataclass
class ExecuteResult:
    response: Any
    errors: list[dict[str, Any]] = field(default_factory=list)


class CompileError(ValueError):
    pass


Runner = Callable[[str, dict[str, str]], Any]


def run(code: str, runner: Runner) -> ExecuteResult:
    """Compile and run ``code``; ``runner(method, params)`` performs one inner call."""
    try:
        script = compile_script(code)
    except CompileError as exc:
        raise VkApiError(12, str(exc)) from None
    if script.calls > MAX_CALLS:
        raise VkApiError(13, "too many API calls")
    values: list[Any] = []
    errors: list[dict[str, Any]] = []
    for element in script.elements:
        if not isinstance(element, Call):
            values.append(element)
            continue
        try:
            values.append(runner(element.method, element.params))
        except VkApiError as exc:
            values.append(False)
            errors.append(exc.as_execute_error(element.method))
    return ExecuteResult(values if script.is_list else values[0], errors)


def compile_script(code: str) -> Script:
    match = _RETURN.match(code)
    if not match:
        raise CompileError("expected 'return'")
    pos = match.end()
    if code.startswith("[", pos):
        elements, pos = _elements(code, pos + 1)
        is_list = True
    else:
        element, pos = _element(code, pos)
        elements, is_list = [element], False
    pos = _skip_space(code, pos)
    if code.startswith(";", pos):
        pos = _skip_space(code, pos + 1)
    if pos != len(code):
        raise CompileError(f"unexpected text at position {pos}")
    return Script(elements, is_list)


def _elements(code: str, pos: int) -> tuple[list[Any], int]:
    elements: list[Any] = []
    pos = _skip_space(code, pos)
    if code.startswith("]", pos):
        return elements, pos + 1
    while True:
        element, pos = _element(code, pos)
        elements.append(element)
        pos = _skip_space(code, pos)
        if code.startswith(",", pos):
            pos = _skip_space(code, pos + 1)
        elif code.startswith("]", pos):
            return elements, pos + 1
        else:
            raise CompileError(f"expected ',' or ']' at position {pos}")


def _element(code: str, pos: int) -> tuple[Any, int]:
    match = _CALL.match(code, pos)
    if match:
        return _call(code, match)
    try:
        return _DECODER.raw_decode(code, pos)
    except json.JSONDecodeError:
        raise CompileError(f"unexpected token at position {pos}") from None


def _call(code: str, match: re.Match[str]) -> tuple[Call, int]:
    pos = match.end()
    args: Any = {}
    if not code.startswith(")", pos):
        try:
            args, pos = _DECODER.raw_decode(code, pos)
        except json.JSONDecodeError:
            raise CompileError(f"arguments must be an object literal at {pos}") from None
        if not isinstance(args, dict):
            raise CompileError(f"arguments must be an object literal at {pos}")
        pos = _skip_space(code, pos)
    if not code.startswith(")", pos):
        raise CompileError(f"expected ')' at position {pos}")
    params = {key: param_value(value) for key, value in args.items() if value is not None}
    return Call(match.group(1), params), pos + 1


def param_value(value: Any) -> str:
    """An argument as the string a form-encoded request would carry (lists comma-joined)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(param_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _skip_space(code: str, pos: int) -> int:
    while pos < len(code) and code[pos].isspace():
        pos += 1
    return pos
