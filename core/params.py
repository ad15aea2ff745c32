"""Declaring LEAN parameters as typed dataclass fields, and parsing them once with clear errors.

LEAN hands every parameter to the algorithm as a string (``config.json`` ``parameters``, or
``lean backtest --parameter KEY VALUE``). Each settings field declares its parameter name, its
default (the spec's value), a one-line description and a validity rule; :func:`parse_section`
turns the raw strings into a frozen dataclass or raises :class:`SettingsError` naming every bad
parameter and value, so a typo stops ``initialize`` instead of trading on a wrong limit.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import math
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import date, time
from typing import Any, TypeVar
from urllib.parse import urlsplit

Getter = Callable[[str], "str | None"]
Check = Callable[[Any], "str | None"]
T = TypeVar("T")

_META_KEY = "lean_parameter"


class SettingsError(ValueError):
    """One or more LEAN parameters are malformed or out of range; the message names each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid LEAN parameters: " + "; ".join(self.problems))


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """What a settings field needs to be read from LEAN: name, description, rule; a ``secret``
    parameter's value is never repeated in an error message."""

    name: str
    doc: str
    check: Check | None
    secret: bool = False


def param(name: str, default: Any, doc: str, check: Check | None = None, secret: bool = False) -> Any:
    """A dataclass field backed by the LEAN parameter ``name`` (default = the spec's value)."""
    spec = ParamSpec(name=name, doc=doc, check=check, secret=secret)
    return dataclasses.field(default=default, metadata={_META_KEY: spec})


# --- validity rules -------------------------------------------------------------------------

def positive(value: float) -> str | None:
    return None if value > 0 else "must be > 0"


def non_negative(value: float) -> str | None:
    return None if value >= 0 else "must be >= 0"


def fraction(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be in (0, 1]"


def at_most_zero(value: float) -> str | None:
    return None if value <= 0 else "must be <= 0 (a loss per day is negative)"


def one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


def in_range(low: float, high: float) -> Check:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"
    return check


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an alert webhook, or None when it can (an empty URL means off): https,
    or http to this machine only. The reason never repeats the URL (it holds a secret)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host and _is_local(host):
        return None
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http:// to this machine)"
    if not host:
        return "has no host"
    return "http:// is allowed only to this machine (localhost); use https://"


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- parsing --------------------------------------------------------------------------------

def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number (e.g. 0.5)") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError("expected a whole number (e.g. 5)") from None


def _parse_time(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    try:
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError("expected HH:MM (New York time)") from None


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("expected a date YYYY-MM-DD") from None


def _parse_str(text: str) -> str:
    return text.strip()


_PARSERS: dict[Any, Callable[[str], Any]] = {
    bool: _parse_bool,
    int: _parse_int,
    float: _parse_float,
    str: _parse_str,
    time: _parse_time,
    date: _parse_date,
}


def format_value(value: Any) -> str:
    """The string a LEAN parameter holds for ``value`` (inverse of the parsers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def param_fields(cls: type) -> Iterator[tuple[dataclasses.Field[Any], ParamSpec]]:
    """The fields of a settings dataclass that are LEAN parameters, in declaration order."""
    for field in dataclasses.fields(cls):
        spec = field.metadata.get(_META_KEY)
        if isinstance(spec, ParamSpec):
            yield field, spec


def _field_type(cls: type, field: dataclasses.Field[Any]) -> Any:
    return typing.get_type_hints(cls)[field.name]


def parse_section(cls: type[T], get: Getter, problems: list[str]) -> T | None:
    """Build ``cls`` from raw parameter strings; append a message per bad value to ``problems``.

    A parameter that is absent (``get`` returns ``None`` or an empty string) takes its default.
    Returns ``None`` when any field of this section failed, so callers never see half a section.
    """
    values: dict[str, Any] = {}
    failed = False
    for field, spec in param_fields(cls):
        raw = get(spec.name)
        if raw is None or raw.strip() == "":
            values[field.name] = field.default
            continue
        parser = _PARSERS[_field_type(cls, field)]
        try:
            value = parser(raw)
        except (ValueError, TypeError) as exc:
            problems.append(f"{spec.name}={_shown(spec, raw)}: {exc}")
            failed = True
            continue
        message = spec.check(value) if spec.check else None
        if message:
            problems.append(f"{spec.name}={_shown(spec, raw)}: {message}")
            failed = True
            continue
        values[field.name] = value
    if failed:
        return None
    instance = cls(**values)
    cross = getattr(instance, "cross_check", None)
    cross_problems: list[str] = list(cross()) if callable(cross) else []
    if cross_problems:
        problems.extend(cross_problems)
        return None
    return instance


def _shown(spec: ParamSpec, raw: str) -> str:
    return "<secret, not shown>" if spec.secret else repr(raw)


def defaults_as_parameters(cls: type) -> Mapping[str, str]:
    """The section's parameters with their default values as LEAN strings."""
    return {spec.name: format_value(field.default) for field, spec in param_fields(cls)}
