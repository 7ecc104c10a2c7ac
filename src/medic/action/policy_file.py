"""The policy file (YAML), validated: see docs/policy.md for the format.

Every mistake is refused at load time with the file, the line, the key path and what
is allowed (`policy.yaml:9: rules[2].autonomy: 'aprove' is not allowed; allowed:
observe, propose, approve, auto`): a policy that silently ignores a typo could grant
more than meant.

Recurring freezes given as cron expressions are evaluated with `cronsim` (Debian
cron's semantics, daylight-saving changes included) in the freeze's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from cronsim import CronSim, CronSimError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from medic.domain import ActionKind, InvalidInputError, Risk

__all__ = [
    "DAYS",
    "ActionBudget",
    "Approvers",
    "Budget",
    "Freeze",
    "PolicyDocument",
    "RateLimit",
    "Rule",
    "RuleSettings",
    "Weekly",
    "load_policy_document",
    "parse_policy_document",
]

AutonomyName = Literal["observe", "propose", "approve", "auto"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_FULL_DAYS = {
    f"{day}{rest}": day
    for day, rest in zip(
        DAYS, ("day", "sday", "nesday", "rsday", "day", "urday", "day"), strict=True
    )
}
_UNION_MEMBERS = frozenset({"datetime", "date"})  # pydantic names them in error paths
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_CRON_FIELDS = 5  # minute hour day-of-month month day-of-week
# Back-to-back cron windows are merged into one freeze, up to this many.
_MAX_MERGED_WINDOWS = 1000


def _seconds(value: Any) -> Any:
    """A duration such as 90s, 30m, 1h, 1d as seconds; numbers pass as they are."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration; use e.g. 90s, 30m, 1h, 1d")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


class _Strict(BaseModel):
    """Frozen, and an unknown key is an error that lists the keys allowed there."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = {f.alias or name for name, f in cls.model_fields.items()}
            unknown = sorted(str(k) for k in data if k not in allowed)
            if unknown:
                raise ValueError(
                    f"unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(allowed))}"
                )
        return data


class Approvers(_Strict):
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


def _positive_window(value: float) -> float:
    if value <= 0:
        raise ValueError("the window must be longer than zero")
    return value


# Seconds, or a duration such as 30m, 1h, 1d; longer than zero.
Window = Annotated[float, BeforeValidator(_seconds), AfterValidator(_positive_window)]


class RateLimit(_Strict):
    max_actions: int = Field(ge=0)
    window: Window = Field(description="seconds; or a duration such as 30m, 1h, 1d")


class ActionBudget(_Strict):
    """At most `max_actions` system-changing actions and `max_added_replicas` replicas
    added by scale-outs (escalations and revert pull requests change nothing)."""

    max_actions: int = Field(ge=0)
    max_added_replicas: int = Field(ge=0)


class FleetBudget(ActionBudget):
    window: Window = Field(default=3600.0, description="seconds; or a duration such as 1h")


class Budget(_Strict):
    """What the executor lets medic do per incident and over the whole fleet per
    rolling window, whatever plans are approved (safe defaults)."""

    per_incident: ActionBudget = ActionBudget(max_actions=5, max_added_replicas=20)
    fleet: FleetBudget = FleetBudget(max_actions=20, max_added_replicas=50, window=3600.0)


class RuleSettings(_Strict):
    """What a rule sets; a field left out is inherited from less specific rules.

    `stateful_actions`: the actions medic may take on a database, cache or queue the
    rule matches (by default none: stateful kinds are left to humans)."""

    autonomy: AutonomyName | None = None
    auto_actions: tuple[ActionKind, ...] | None = None
    approvers: Approvers | None = None
    second_approver_for: tuple[Risk, ...] | None = None
    rate_limit: RateLimit | None = None
    stateful_actions: tuple[ActionKind, ...] | None = None


class Rule(RuleSettings):
    namespace: str = "*"
    service: str = "*"


class Weekly(_Strict):
    """Every listed day from `start` to `end` (local times; an `end` at or before
    `start` is the next day, so 18:00-08:00 spans midnight; 24:00 is the day's end)."""

    days: tuple[Day, ...] = Field(min_length=1)
    start: str
    end: str

    @field_validator("days", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [
                _FULL_DAYS.get(v.lower(), v.lower()) if isinstance(v, str) else v for v in value
            ]
        return value

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        match = _CLOCK.match(value)
        if match is None or (match.group(1) == "24" and match.group(2) != "00"):
            raise ValueError(f"{value!r} is not a time of day; use HH:MM (00:00 to 24:00)")
        return value


class Freeze(_Strict):
    """A change freeze: weekly; from `start` to `end` (dates are whole days); or for
    `duration` from every time the `cron` expression fires (local to `timezone`)."""

    name: str
    namespace: str = "*"
    service: str = "*"
    timezone: str = "UTC"
    weekly: Weekly | None = None
    start: datetime | date | None = None
    end: datetime | date | None = None
    cron: str | None = None
    duration: float | None = Field(
        default=None, description="seconds; or a duration such as 30m, 64h, 2d"
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value.split()) != _CRON_FIELDS:
            raise ValueError(
                f"{value!r} is not a cron expression: it needs 5 fields "
                "(minute hour day-of-month month day-of-week), e.g. '0 18 * * FRI'"
            )
        try:
            CronSim(value, datetime(2000, 1, 1))
        except CronSimError as e:
            raise ValueError(f"{value!r} is not a cron expression: {e}") from e
        return value

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return _seconds(value)

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("the duration must be longer than zero")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from e
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Freeze:
        absolute = self.start is not None or self.end is not None
        kinds = [self.weekly is not None, absolute, self.cron is not None]
        if sum(kinds) > 1:
            raise ValueError(
                "a freeze is one of `weekly`, `start`/`end` or `cron`/`duration`, not several"
            )
        if (self.cron is None) != (self.duration is None):
            raise ValueError("`cron` and `duration` go together: a freeze needs both")
        if not any(kinds):
            raise ValueError(
                "a freeze needs `weekly`, both `start` and `end`, or `cron` and `duration`"
            )
        if absolute and not (self.start is not None and self.end is not None):
            raise ValueError("a freeze needs `weekly`, or both `start` and `end`")
        if self.weekly is not None and self.weekly.start == self.weekly.end:
            raise ValueError("weekly.start and weekly.end are equal: an empty window")
        return self

    def active_until(self, now: datetime) -> datetime | None:
        """When the freeze that holds at `now` ends (UTC), or None if none holds."""
        now = now.astimezone(UTC)
        zone = ZoneInfo(self.timezone)
        if self.cron is not None and self.duration is not None:
            return _cron_until(self.cron, timedelta(seconds=self.duration), zone, now)
        if self.weekly is None:
            start, end = self._instant(self.start, zone, 0), self._instant(self.end, zone, 1)
            return end if start <= now < end else None
        today = now.astimezone(zone).date()
        # A window that began yesterday may still run today (it spans midnight).
        for day in (today - timedelta(days=1), today):
            if DAYS[day.weekday()] in self.weekly.days:
                start, end = _window(day, self.weekly, zone)
                if start <= now < end:
                    return end
        return None

    @staticmethod
    def _instant(value: datetime | date | None, zone: ZoneInfo, whole_days: int) -> datetime:
        if isinstance(value, datetime):
            local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
            return local.astimezone(UTC)
        if value is None:  # excluded by _one_kind
            raise ValueError("a freeze without start or end")
        # A date is a whole day: an `end` date is frozen until that day ends.
        midnight = datetime.combine(value + timedelta(days=whole_days), time(0, 0), tzinfo=zone)
        return midnight.astimezone(UTC)


def _cron_until(cron: str, duration: timedelta, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The end of the cron window holding at `now` (UTC), or None. Windows that begin
    before the previous one ends are one freeze: its end is the last one's."""
    # Reverse iteration starts one second before its argument: the first time it yields
    # is the latest firing at or before `now`.
    probe = (now.replace(microsecond=0) + timedelta(seconds=1)).astimezone(zone)
    try:
        started = next(CronSim(cron, probe, reverse=True))
    except StopIteration:  # never fired in the last 50 years
        return None
    end = started.astimezone(UTC) + duration
    if end <= now:
        return None
    upcoming = CronSim(cron, started)
    for _ in range(_MAX_MERGED_WINDOWS):
        following = next(upcoming, None)
        if following is None or following.astimezone(UTC) >= end:
            break
        end = max(end, following.astimezone(UTC) + duration)
    return end


def _as_time(clock: str) -> time:
    hours, minutes = (int(part) for part in clock.split(":"))
    return time(0, 0) if hours == 24 else time(hours, minutes)


def _window(day: date, weekly: Weekly, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of the weekly window that begins on local `day`."""
    start_t, end_t = _as_time(weekly.start), _as_time(weekly.end)
    start = datetime.combine(day, start_t, tzinfo=zone)
    end_day = day if (weekly.end != "24:00" and end_t > start_t) else day + timedelta(days=1)
    end = datetime.combine(end_day, end_t, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


class PolicyDocument(_Strict):
    version: Literal[1] = 1
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    defaults: RuleSettings = RuleSettings()
    rules: tuple[Rule, ...] = ()
    freezes: tuple[Freeze, ...] = ()
    budget: Budget = Budget()

    @model_validator(mode="after")
    def _groups_exist(self) -> PolicyDocument:
        for name, members in self.groups.items():
            if not members:
                raise ValueError(f"groups.{name}: a group needs at least one user")
        places = [("defaults", self.defaults)] + [
            (f"rules[{i}]", r) for i, r in enumerate(self.rules)
        ]
        for where, settings in places:
            approvers = settings.approvers
            if approvers is None:
                continue
            for group in approvers.groups:
                if group not in self.groups:
                    known = ", ".join(sorted(self.groups)) or "none defined"
                    raise ValueError(
                        f"{where}.approvers.groups: unknown group {group!r}; groups: {known}"
                    )
            if not approvers.users and not approvers.groups:
                raise ValueError(f"{where}.approvers: name at least one user or group")
        return self

    def members(self, approvers: Approvers) -> frozenset[str]:
        found = set(approvers.users)
        for group in approvers.groups:
            found.update(self.groups[group])
        return frozenset(found)


def parse_policy_document(text: str, source: str) -> PolicyDocument:
    """Parse YAML text; InvalidInputError names `source`, the key path and the fix."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InvalidInputError(f"{source}: not valid YAML: {e}") from e
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise InvalidInputError(f"{source}: the policy must be a mapping of keys")
    try:
        return PolicyDocument.model_validate(loaded)
    except ValidationError as e:
        line = _line_of(text, e.errors()[0]["loc"])
        where = f"{source}:{line}" if line is not None else source
        raise InvalidInputError(f"{where}: {_describe(e)}") from e


def load_policy_document(path: Path) -> PolicyDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInputError(f"{path}: cannot read the policy file: {e.strerror or e}") from e
    return parse_policy_document(text, str(path))


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = _path(first["loc"])
    kind = first["type"]
    given = first.get("input")
    if kind in ("literal_error", "enum"):
        allowed = first.get("ctx", {}).get("expected", "")
        allowed = allowed.replace("'", "").replace(" or ", ", ")
        return f"{where}: {given!r} is not allowed; allowed: {allowed}"
    message = str(first["msg"]).removeprefix("Value error, ")
    if isinstance(given, str | int | float) and repr(given) not in message:
        message = f"{given!r}: {message}"
    others = {_path(e["loc"]) for e in error.errors()} - {where}
    suffix = f" (and {len(others)} more problem(s))" if others else ""
    return f"{where}: {message}{suffix}" if where else f"{message}{suffix}"


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line (1-based) of the YAML node at the key path `loc`, as deep as it goes."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = int(node.start_mark.line) + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part]
            if not found:
                if part in _UNION_MEMBERS:
                    continue
                break
            node = found[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        elif part in _UNION_MEMBERS:
            continue
        else:
            break
        line = int(node.start_mark.line) + 1
    return line


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in _UNION_MEMBERS:
            continue
        else:
            text += f".{part}" if text else str(part)
    return text
