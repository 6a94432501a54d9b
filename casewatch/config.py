"""feeds.yaml: its types (frozen dataclasses, checked by pydantic when a file is parsed), and
loading that reports every error with file, line and field."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import logging
import math
import os
import pickle
import re
import sys
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casewatch.cachedir import cache_dir
from casewatch.fetch import FetchSettings
from casewatch.patterns import LazyPattern
from casewatch.sections import (
    EventSettings,
    PageSelectors,
    RelevanceSettings,
    Rule,
    SourceRelevance,
    Veto,
)
from casewatch.validation import FORBID_EXTRA, After, Before, Limits, validate

log = logging.getLogger(__name__)

_DURATION = LazyPattern(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_DURATION_MAX = 100 * 365 * 86400.0  # beyond this, dates computed from it overflow
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Seconds from a number or '30s', '15m', '2h', '1d', '1w'."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30m, got a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"expected a duration like 90, 30s, 15m, 2h or 1d, got {value!r}")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a duration must be positive and finite, got {value!r}")
    if seconds > _DURATION_MAX:
        raise ValueError(f"a duration must be at most 100 years, got {value!r}")
    return seconds


Duration = Annotated[float, Before(parse_duration)]


NonEmpty = Annotated[str, Limits(min_length=1)]


@dataclass(frozen=True, kw_only=True)
class CaseInfo:
    __pydantic_config__ = FORBID_EXTRA

    name: NonEmpty
    short: str | None = None
    description: str = ""
    # Words every story of the case contains: removed before titles are compared across
    # outlets, else every headline of the case would look alike.
    vocabulary: list[str] = field(default_factory=list)
    # Outlets of this case (its NGOs, courts, regional papers) that may end a headline
    # ("... - World Uyghur Congress"); cut off before headlines are compared, like the
    # well-known outlets (Reuters, BBC ...) the code knows already.
    outlets: list[str] = field(default_factory=list)
    search_url: str | None = None
    # Entry dates before this day (default 1990-01-01) or more than a day ahead of now are a
    # feed's mistake (0001, 1970, 2099): the entry is stored and shown as undated.
    start: date | None = None


@dataclass(frozen=True, kw_only=True)
class Defaults:
    __pydantic_config__ = FORBID_EXTRA

    interval: Duration = 1800.0
    # An entry first seen later than this after its publication date is stored but not alerted
    # (a feed re-surfacing an old article is not news).
    alert_max_age: Duration = 14 * 86400.0
    # Consecutive failures before admins are told a source is failing.
    failing_after: Annotated[int, Limits(ge=1)] = 3
    # Worker processes that parse feeds, so parsing a big cycle runs beside ingesting it on
    # another core; 0 parses in a thread of the bot's own process.
    parse_workers: Annotated[int, Limits(ge=0, le=16)] = 1
    # Headlines (and near-duplicate texts) join a story only if it was seen this recently.
    story_window: Duration = 30 * 86400.0
    # A source with no new entry for this long is reported stale in `sources`.
    stale_after: Duration = 30 * 86400.0


def _check_tz(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a time zone name like Europe/Paris, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like Europe/Paris)"
        ) from exc
    return value


def _check_hhmm(value: str) -> str:
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not m:
        raise ValueError(f"expected a time as HH:MM (24-hour), got {value!r}")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


TimeZoneName = Annotated[str, Before(_check_tz)]
ClockTime = Annotated[str, Before(_check_hhmm)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass(frozen=True, kw_only=True)
class DigestSettings:
    __pydantic_config__ = FORBID_EXTRA

    frequency: Literal["daily", "weekly"] = "daily"
    time: ClockTime = "08:00"
    timezone: TimeZoneName = "UTC"
    weekday: Weekday = "monday"
    empty: Literal["skip", "say"] = "skip"
    # Stories listed in full in one digest (court first, most covered first); the rest are
    # counted. Every one of them was an alert already: a digest is for reading in a minute.
    max_stories: Annotated[int, Limits(ge=1, le=200)] = 25
    console: bool = True  # print digests in console mode


def _one_outlet(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise ValueError("publisher must name an outlet, got only spaces")
    return " ".join(value.split())


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    __pydantic_config__ = FORBID_EXTRA

    name: Annotated[str, Limits(min_length=1, max_length=100)]
    url: str
    kind: Literal["news", "court"] = "news"
    format: Literal["feed", "page", "search"] = "feed"
    interval: Duration | None = None
    relevance: Literal["rules", "all"] = "rules"
    rules: SourceRelevance | None = None
    page: PageSelectors | None = None
    enabled: bool = True
    # The outlet that writes this feed's reports, for feeds whose items do not say (an item's
    # own credit wins: a wire named in the text, Google's <source>, Bing's <News:Source>). Two
    # feeds of one outlet with the same publisher count as one outlet in a story.
    publisher: Annotated[str | None, Limits(min_length=1, max_length=100), After(_one_outlet)] = (
        None
    )
    confidence: Literal["high", "medium-high", "medium", "low", "unconfirmed"] | None = None
    note: str | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.url):
            raise ValueError(f"url must be an http(s) address, got {self.url!r}")
        if self.format == "page" and self.page is None:
            raise ValueError("format: page needs `page:` selectors (entries, title, link, date)")
        if self.format != "page" and self.page is not None:
            raise ValueError("`page:` selectors only apply to format: page")


@dataclass(frozen=True, kw_only=True)
class TimelineEvent:
    __pydantic_config__ = FORBID_EXTRA

    date: date
    title: Annotated[str, Limits(min_length=1, max_length=300)]
    url: str | None = None
    kind: str = "news"


@dataclass(frozen=True, kw_only=True)
class Config:
    __pydantic_config__ = FORBID_EXTRA

    case: CaseInfo
    defaults: Defaults = field(default_factory=Defaults)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    events: EventSettings = field(default_factory=EventSettings)
    relevance: RelevanceSettings
    digest: DigestSettings = field(default_factory=DigestSettings)
    sources: list[SourceConfig] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen_names: dict[str, int] = {}
        seen_urls: dict[str, int] = {}
        for i, s in enumerate(self.sources):
            if s.name.lower() in seen_names:
                raise ValueError(
                    f"sources[{i}]: name {s.name!r} is already used by sources"
                    f"[{seen_names[s.name.lower()]}]"
                )
            if s.url in seen_urls:
                raise ValueError(
                    f"sources[{i}]: url {s.url} is already used by sources[{seen_urls[s.url]}]"
                )
            seen_names[s.name.lower()] = i
            seen_urls[s.url] = i
            if s.rules is not None:
                try:
                    self.relevance.with_source(s.rules)
                except ValueError as exc:
                    raise ValueError(f"sources[{i}]: rules: {exc}") from exc

    def interval_for(self, source: SourceConfig) -> float:
        return source.interval or self.defaults.interval

    def source_by_url(self, url: str) -> SourceConfig | None:
        # Asked once per source per cycle: an index keeps a 10,000-source cycle linear. It is
        # kept beside the fields (not one of them: not compared, copied or cached), and keyed
        # on the list itself in case someone swaps the list.
        cached: tuple[list[SourceConfig], dict[str, SourceConfig]] | None
        cached = self.__dict__.get("_by_url")
        if cached is None or cached[0] is not self.sources:
            cached = (self.sources, {s.url: s for s in self.sources})
            object.__setattr__(self, "_by_url", cached)
        return cached[1].get(url)

    def __getstate__(self) -> dict[str, Any]:
        """What pickle keeps (the config cache): the fields, not the index by URL."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


class ConfigError(Exception):
    """The configuration is invalid; `errors` holds one 'file:line: field: message' per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _line_of(tree: Any, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest node of `loc` that exists in the YAML tree."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node, line = tree, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "tagged-union")):
            out += ("." if out else "") + str(part)
    return out or "(top level)"


# pydantic's words for a dataclass's errors, put as it puts a model's (the messages feeds.yaml's
# users and tests know).
_MESSAGES = {
    "unexpected_keyword_argument": "unknown key (check the spelling; unknown keys are errors)",
    "missing_keyword_only_argument": "Field required",
    "missing_argument": "Field required",
    "dataclass_type": "Input should be a valid dictionary or instance of {kind}",
    "dataclass_args_type": "Input should be a valid dictionary or instance of {kind}",
}


def _kind_at(loc: tuple[int | str, ...]) -> str:
    """The name of the config type expected at `loc` (`sources`, 3 -> SourceConfig)."""
    kind: Any = Config
    for part in loc:
        if isinstance(part, str):  # a list's index keeps the type of its items
            todo = [typing.get_type_hints(kind)[part]]
            while todo and not dataclasses.is_dataclass(todo[0]):
                todo.extend(get_args(todo.pop(0)))  # list[X], X | None, Annotated[X, ...]
            kind = todo[0] if todo else kind
    return getattr(kind, "__name__", str(kind))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem.

    A valid file's validated config is cached by content (see `_cached_config`): parsing YAML
    with the line numbers that errors need costs about 0.3 s, and validating imports pydantic
    and builds its validators; the cached copy takes a millisecond.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc
    digest = hashlib.sha256(raw).hexdigest()
    cached = _cached_config(digest)
    if cached is not None:
        return cached
    config = _parse(text, name=str(path))
    _cache_config(digest, config)
    return config


def parse_config(text: str, *, name: str = "feeds.yaml") -> Config:
    """Validate config text; `name` is used in error messages."""
    return _parse(text, name=name)


def _parse(text: str, *, name: str) -> Config:
    """The validated config."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import MarkedYAMLError

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ConfigError([f"{where}: YAML syntax: {exc.problem or exc}"]) from exc
    except Exception as exc:  # ruamel raises a few non-marked errors (duplicate keys...)
        raise ConfigError([f"{name}: YAML error: {exc}"]) from exc
    if not isinstance(tree, CommentedMap):
        raise ConfigError(
            [f"{name}:1: the file must be a mapping with case:, relevance:, sources:"]
        )
    plain = _plain(tree)
    from pydantic import ValidationError

    try:
        return validate(Config, plain)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = err["msg"]
            if err["type"] in _MESSAGES:
                msg = _MESSAGES[err["type"]]
                if "{kind}" in msg:
                    msg = msg.format(kind=_kind_at(loc))
            # Errors raised by a model validator about a list item carry "sources[3]:" text.
            m = re.match(r"^Value error, (\w+)\[(\d+)\]: (.*)$", msg, re.S)
            if m and not loc:
                loc = (m.group(1), int(m.group(2)))
                msg = m.group(3)
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            line = _line_of(tree, loc)
            where = f"{name}:{line}" if line else name
            errors.append(f"{where}: {_field(loc)}: {msg}")
        raise ConfigError(errors) from exc


# ---------------------------------------------------------------------------------------------
# The validated-config cache: one pickle per valid config content and version of the models'
# code, in the user's cache folder. Read back, it is the config itself: nothing is validated
# again, so a cached start does not even import pydantic.

_CACHE_FORMAT = 3  # bump when what is cached changes
_CACHE_KEEP = 8  # files kept: a few configs (or versions of one) at a time


def _types() -> tuple[type, ...]:
    """Every type a config is made of (its sections, sources, rules ...): what the cache may
    hold. A test holds it to every dataclass reachable from `Config`'s fields."""
    return (
        Config,
        CaseInfo,
        Defaults,
        DigestSettings,
        SourceConfig,
        TimelineEvent,
        FetchSettings,
        EventSettings,
        PageSelectors,
        RelevanceSettings,
        SourceRelevance,
        Rule,
        Veto,
    )


def _code_version() -> str:
    """What a cached config depends on besides the file: the source of the modules that
    define its types (their fields, defaults and checks) and of the engine that reads a
    relevance term (the groups' check), pydantic's version and Python's. pydantic itself is
    not imported: a cached start never needs it."""
    code = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    spec = importlib.util.find_spec("pydantic")
    if spec is not None and spec.origin:
        code.update(Path(spec.origin).with_name("version.py").read_bytes())
    for module in sorted({kind.__module__ for kind in _types()}):
        code.update(Path(sys.modules[module].__file__ or "").read_bytes())
    code.update(Path(__file__).with_name("relevance.py").read_bytes())
    return code.hexdigest()[:16]


def _cache_file(digest: str) -> Path:
    return cache_dir() / f"config-{_CACHE_FORMAT}-{digest[:32]}-{_code_version()}.pickle"


class _ConfigUnpickler(pickle.Unpickler):
    """Rebuilds what a config holds (its dataclasses, dates) and nothing else: a cache file that
    names any other class or function is refused, never imported or called."""

    def __init__(self, blob: bytes) -> None:
        super().__init__(io.BytesIO(blob))
        self.allowed: dict[tuple[str, str], type] = {
            (t.__module__, t.__qualname__): t for t in _types()
        }
        self.allowed |= {("datetime", "date"): date, ("datetime", "datetime"): datetime}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a config")
        return self.allowed[module, name]


def _cached_config(digest: str) -> Config | None:
    """The validated config of a file whose bytes hash to `digest`, or None (never cached, or
    the cache is unreadable: the file is then simply parsed again)."""
    try:
        blob = _cache_file(digest).read_bytes()
        config = _ConfigUnpickler(blob).load()
    except Exception:  # a damaged file can make pickle raise anything: MemoryError, OverflowError
        return None
    return config if isinstance(config, Config) else None


def _cache_config(digest: str, config: Config) -> None:
    """Remember a valid config; a folder that cannot be written is no error."""
    target = _cache_file(digest)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL))
        scratch.replace(target)  # atomic: a reader sees the whole file or none
        older = sorted(
            target.parent.glob("config-*"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for stale in older[_CACHE_KEEP:]:
            stale.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError) as exc:
        log.debug("config cache not written (%s): %s", target, exc)
