"""The sections of feeds.yaml that the engines take (`events:`, `relevance:` and a page
source's `page:`), as the config's types: frozen dataclasses checked by pydantic when a file is
parsed (see casewatch.validation).

They live apart from their engines (casewatch.events, casewatch.relevance, casewatch.pages),
which import them from here: the config needs the types, and a command that judges, files or
parses nothing (a poll with nothing due, every query) does not import the engines (issue 9:
start-up). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from casewatch.patterns import LazyPattern
from casewatch.validation import FORBID_EXTRA, After, Limits

if TYPE_CHECKING:
    from pydantic import ValidationInfo

# -- events: ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EventSettings:
    """How close two reports must be to be one development (the `events:` section of
    feeds.yaml). The defaults are tuned on tests/fixtures/developments.yaml (bench/events.py)."""

    __pydantic_config__ = FORBID_EXTRA

    # false: every relevant story is its own event (one alert per story, no model loaded).
    enabled: bool = True
    # A report further than this from every report of an event starts a new one.
    window_days: Annotated[int, Limits(ge=0, le=60)] = 7
    threshold: float = 0.4  # score needed to join
    # A report no event of its window takes may still join an event up to this many days
    # older, as a late report (an op-ed, an analysis weeks after): only when it names the
    # event's act (the one most of its reports name) or none, shares a name with it, and scores
    # `late_margin` above `threshold` (late_days 0: late reports always start an event).
    late_days: Annotated[int, Limits(ge=0, le=90)] = 35
    late_margin: float = 0.1
    act_conflict: float = 0.3  # subtracted when the two name different acts
    # ... but only this much for acts one development is often reported as: a court's decision
    # and its refusal ("rules out" / "rejects"), a parliament's vote and its decision
    # ("recognises" / "declares"), a warrant and the arrest on it
    act_related: float = 0.15
    act_shared: float = 0.05  # added when they name the same act
    # ... and this too when they are published within a day of each other: news of an act
    # comes out within a day (360 such pairs of reports of one development in the labelled set,
    # 1 of two developments)
    act_same_days: float = 0.15
    name_bonus: float = 0.1  # added per shared name or number (up to `max_names`)
    max_names: int = 3
    name_conflict: float = 0.1  # subtracted when both name names or numbers and share none
    day_penalty: float = 0.005  # subtracted per day apart
    # added when one names the day of the other ("On June 18, ..."), or both say their act
    # happened on the same day ("am Montag" and "il 13 settembre" of one Monday)
    date_bonus: float = 0.15
    # subtracted when both name the day of their act ("on Monday", "on Thursday") and the days
    # are more than one apart: two parliaments' votes three days apart
    day_conflict: float = 0.4


# -- a page source's page: ---------------------------------------------------------------


def _selector_compiles(value: str | None) -> str | None:
    if value is None:
        return value
    if not value.strip():
        raise ValueError("empty CSS selector")
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<p></p>").css(value)
    except Exception as exc:  # selectolax raises its own SelectolaxError
        raise ValueError(f"invalid CSS selector {value!r}: {exc}") from exc
    return value


Selector = Annotated[str, After(_selector_compiles)]


@dataclass(frozen=True, kw_only=True)
class PageSelectors:
    """CSS selectors that find the entries of an HTML list page and the fields inside each."""

    __pydantic_config__ = FORBID_EXTRA

    entries: Selector  # each entry of the list, e.g. "ul.press-releases > li"
    title: Selector  # inside an entry
    # inside an entry; default: the title if it is a link, else first a[href]
    link: Selector | None = None
    link_attr: str = "href"
    date: Selector | None = None  # inside an entry; default: the first time[datetime]
    date_attr: str | None = None  # e.g. "datetime"; without `date`, read from the entry itself
    summary: Selector | None = None


# -- relevance: ------------------------------------------------------------------------------

_GROUP_NAME = LazyPattern(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _check_groups(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    from casewatch.relevance import compile_term  # the engine's own reading of a term

    for name, terms in groups.items():
        if not _GROUP_NAME.match(name):
            raise ValueError(
                f"group name {name!r}: use letters, digits, '-' or '_', starting with a letter"
            )
        if not terms:
            raise ValueError(f"group {name!r} has no terms")
        seen: dict[object, str] = {}
        for term in terms:
            try:
                pattern = compile_term(term)
            except ValueError as exc:
                raise ValueError(f"group {name!r}: {exc}") from None
            if pattern in seen:
                raise ValueError(
                    f"group {name!r} lists the same term twice: {seen[pattern]!r} and {term!r}"
                )
            seen[pattern] = term
    return groups


NonEmpty = Annotated[str, Limits(min_length=1)]


def _needs_a_condition(rule: Rule | Veto) -> None:
    if not rule.all and not rule.any:
        raise ValueError(f"rule {rule.name!r} needs `all` or `any` (a list of group names)")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A scoring rule: fires when its groups are found, and adds `score` (may be negative)."""

    __pydantic_config__ = FORBID_EXTRA

    name: NonEmpty
    all: list[str] = field(default_factory=list)  # every one of these groups found
    any: list[str] = field(default_factory=list)  # at least one of these groups found
    none: list[str] = field(default_factory=list)  # none of these groups found
    score: float = 1.0

    def __post_init__(self) -> None:
        _needs_a_condition(self)

    def groups(self) -> list[tuple[str, str]]:
        """(field, group) for every group this rule names."""
        return [(f, g) for f in ("all", "any", "none") for g in getattr(self, f)]


@dataclass(frozen=True, kw_only=True)
class Veto:
    """A drop or demote rule: fires when its groups are found and none of `unless` is."""

    __pydantic_config__ = FORBID_EXTRA

    name: NonEmpty
    all: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    unless: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _needs_a_condition(self)

    def groups(self) -> list[tuple[str, str]]:
        """(field, group) for every group this rule names."""
        return [(f, g) for f in ("all", "any", "unless") for g in getattr(self, f)]


def _unknown_groups(
    section: str, rules: Sequence[Rule | Veto], known: Iterable[str]
) -> list[Rule | Veto]:
    known_set = set(known)
    for index, rule in enumerate(rules):
        for field_name, group in rule.groups():
            if group not in known_set:
                raise ValueError(
                    f"{section}[{index}] rule {rule.name!r} names unknown group {group!r} "
                    f"in `{field_name}` (known groups: {', '.join(sorted(known_set)) or 'none'})"
                )
    return list(rules)


def _court_groups_known(section: str, names: list[str], groups: dict[str, list[str]]) -> None:
    for name in names:
        if name not in groups:
            raise ValueError(
                f"{section} names unknown group {name!r} "
                f"(known groups: {', '.join(sorted(groups)) or 'none'})"
            )


def _unique_names(sections: dict[str, Sequence[Rule | Veto]]) -> None:
    where: dict[str, str] = {}
    for section, rules in sections.items():
        for rule in rules:
            if rule.name in where:
                raise ValueError(
                    f"rule name {rule.name!r} is used twice ({where[rule.name]} and {section}); "
                    "names must be unique because `why` and `disable` refer to them"
                )
            where[rule.name] = section


# Checks of one field against the groups checked before it (pydantic's `info.data`); when the
# groups themselves were invalid, that error is the one reported.


def _rules_name_known_groups(rules: list[Rule | Veto], info: ValidationInfo) -> list[Rule | Veto]:
    groups = info.data.get("groups")
    if groups is None:
        return rules
    return _unknown_groups(info.field_name or "rules", rules, groups)


def _court_names_known(names: list[str], info: ValidationInfo) -> list[str]:
    groups = info.data.get("groups")
    if groups is not None:
        _court_groups_known(info.field_name or "court_groups", names, groups)
    return names


Groups = Annotated[dict[str, list[str]], After(_check_groups)]
CourtGroups = Annotated[list[str], After(_court_names_known, info=True)]


@dataclass(frozen=True, kw_only=True)
class RelevanceSettings:
    """The `relevance:` section of feeds.yaml: groups of terms, rules, vetoes, threshold."""

    __pydantic_config__ = FORBID_EXTRA

    threshold: Annotated[float, Limits(gt=0)] = (
        2.0  # score >= threshold: relevant; 0 < score: context
    )
    groups: Groups = field(default_factory=dict)
    rules: Annotated[list[Rule], After(_rules_name_known_groups, info=True)] = field(
        default_factory=list
    )
    # vetoes: verdict dropped
    drop: Annotated[list[Veto], After(_rules_name_known_groups, info=True)] = field(
        default_factory=list
    )
    # caps: relevant becomes context
    demote: Annotated[list[Veto], After(_rules_name_known_groups, info=True)] = field(
        default_factory=list
    )
    # The court label (a relevant item that reports an act in a proceeding). With `court_acts`
    # empty, any group of `court_groups` found is enough (the old, loose rule).
    court_groups: CourtGroups = field(default_factory=list)  # a forum or a party is named
    court_acts: CourtGroups = field(default_factory=list)  # an act: filed, ruled, hearing ...
    court_unless: CourtGroups = field(default_factory=list)  # in the title: a feature, a vote ...

    def __post_init__(self) -> None:
        _unique_names({"rules": self.rules, "drop": self.drop, "demote": self.demote})

    def with_source(self, source: SourceRelevance) -> RelevanceSettings:
        """These settings with one source's overrides applied; ValueError if they do not fit.

        Checked here as feeds.yaml is (the same checks, in the same order, with the same
        words), without pydantic: a poll with a source's own rules runs this."""
        known = {r.name for r in self.rules} | {r.name for r in (*self.drop, *self.demote)}
        missing = [name for name in source.disable if name not in known]
        if missing:
            raise ValueError(
                f"source rules: `disable` names unknown rule(s) {', '.join(map(repr, missing))} "
                f"(known: {', '.join(sorted(known)) or 'none'})"
            )
        off = set(source.disable)
        groups = {name: list(terms) for name, terms in self.groups.items()}
        for name, terms in source.groups.items():
            groups[name] = groups.get(name, []) + [
                t for t in terms if t not in groups.get(name, [])
            ]
        sections: dict[str, list[Any]] = {
            "rules": [r for r in self.rules if r.name not in off] + list(source.rules),
            "drop": [r for r in self.drop if r.name not in off] + list(source.drop),
            "demote": [r for r in self.demote if r.name not in off] + list(source.demote),
        }
        problems: list[str] = []
        try:
            _check_groups(groups)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            for section, rules in sections.items():
                try:
                    _unknown_groups(section, rules, groups)
                except ValueError as exc:
                    problems.append(str(exc))
            for section, names in (
                ("court_groups", self.court_groups),
                ("court_acts", self.court_acts),
                ("court_unless", self.court_unless),
            ):
                try:
                    _court_groups_known(section, names, groups)
                except ValueError as exc:
                    problems.append(str(exc))
        if not problems:
            try:
                return RelevanceSettings(
                    threshold=source.threshold if source.threshold is not None else self.threshold,
                    groups=groups,
                    rules=sections["rules"],
                    drop=sections["drop"],
                    demote=sections["demote"],
                    court_groups=list(self.court_groups),
                    court_acts=list(self.court_acts),
                    court_unless=list(self.court_unless),
                )
            except ValueError as exc:
                problems.append(str(exc))
        raise ValueError(f"source rules do not fit the case rules: {'; '.join(problems)}")


@dataclass(frozen=True, kw_only=True)
class SourceRelevance:
    """Per-source overrides (a source's `rules:` in feeds.yaml), applied on top of the case's."""

    __pydantic_config__ = FORBID_EXTRA

    threshold: Annotated[float | None, Limits(gt=0)] = None
    groups: Groups = field(default_factory=dict)  # extra terms, or new groups
    rules: list[Rule] = field(default_factory=list)
    drop: list[Veto] = field(default_factory=list)
    demote: list[Veto] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)  # names of case rules switched off here
