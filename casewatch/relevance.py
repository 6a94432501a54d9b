"""Relevance: does a text belong to the case? Rules written by the operator in feeds.yaml.

Vocabulary lives in named *groups* of terms. A *rule* fires when its groups are found
(`all` of them, at least one of `any`, none of `none`) and adds its score; the sum decides:
at or above `threshold` the item is relevant (alerts), above 0 it is context (stored, no
alert), otherwise dropped. *Drop* rules veto an item outright; *demote* rules cap a relevant
item at context. Both stand down when one of their `unless` groups is found.

Matching: terms and text are folded (`casewatch.text.fold`: lower case, diacritics off) and
split into words; a term matches whole words only, a phrase matches its words in a row
whatever lies between them (spaces, line breaks, punctuation), a trailing `*` on a word makes
it a prefix, and a term in Chinese/Japanese/Korean script matches as a substring (those
scripts do not separate words). All terms are compiled once into word-indexed tables, so a
text is scanned once whatever the number of terms.

Pure: no I/O.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter

from casewatch.model import Match
from casewatch.patterns import LazyPattern

# The `relevance:` section's types live apart from the engine, which a command that judges
# nothing does not import (issue 9: start-up); imported here for the engine and its callers.
from casewatch.sections import RelevanceSettings, Rule, SourceRelevance, Veto
from casewatch.text import fold

# Scripts written without spaces between words: Han (CJK ideographs and extensions), kana,
# Hangul. Terms in them match as substrings; text in them never forms part of a "word".
_CJK_RANGES = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002fa1f"  # CJK extensions B-F, compatibility supplement
)
_CJK = LazyPattern(f"[{_CJK_RANGES}]")
# A word: letters and digits of any non-CJK script; everything else separates words.
_WORD = LazyPattern(f"[^\\W_{_CJK_RANGES}]+")
# For text that folds to ASCII (most of it): every character but a-z and 0-9 separates words,
# so `translate` + `split` does what _WORD does, several times faster.
_ASCII_SEPARATORS = str.maketrans(
    {c: " " for c in map(chr, range(128)) if c not in string.ascii_lowercase + string.digits}
)
# Joins title and text into one scan: a made-up word between them, so that no phrase (and no
# CJK substring) runs from the end of the title into the text.
_BETWEEN = "\n x0between0x \n"
_MIN_PREFIX = 3


def _fold_fast(text: str) -> str:
    """`fold`, with a shortcut for ASCII text (where folding is just lower-casing)."""
    return text.lower() if text.isascii() else fold(text)


@dataclass(frozen=True)
class _Pattern:
    """One term compiled: either a run of words (each exact or prefix) or a CJK substring."""

    words: tuple[tuple[str, bool], ...] = ()  # (folded word, is_prefix)
    substring: str | None = None


def compile_term(term: str) -> _Pattern:
    """Compile one term as written in feeds.yaml; raise ValueError saying what is wrong."""
    raw = term.strip()
    if not raw:
        raise ValueError("a term is empty")
    if _CJK.search(raw):
        if "*" in raw:
            raise ValueError(
                f"term {term!r}: '*' is not used with Chinese/Japanese/Korean terms, "
                "which already match anywhere inside the text"
            )
        return _Pattern(substring=" ".join(_fold_fast(raw).split()))
    words: list[tuple[str, bool]] = []
    for chunk in raw.split():
        prefix = chunk.endswith("*")
        core = chunk[:-1] if prefix else chunk
        if "*" in core:
            raise ValueError(f"term {term!r}: '*' may only end a word (a prefix), as in 'Uyghur*'")
        pieces = _WORD.findall(_fold_fast(core))
        if not pieces:
            if prefix:
                raise ValueError(f"term {term!r}: '*' must follow letters, as in 'Uyghur*'")
            continue  # a bare dash or slash between words: punctuation never has to match
        words.extend((piece, False) for piece in pieces[:-1])
        if prefix and not words and len(pieces) == 1 and len(pieces[-1]) < _MIN_PREFIX:
            raise ValueError(
                f"term {term!r}: a prefix that starts a term needs at least {_MIN_PREFIX} "
                "letters before '*'"
            )
        words.append((pieces[-1], prefix))
    if not words:
        raise ValueError(f"term {term!r} has no letters or digits to match")
    return _Pattern(words=tuple(words))


# --- compiled form ---------------------------------------------------------------------------

_Tail = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class _Phrase:
    tail: _Tail  # the words after the first: (folded word, is_prefix)
    ids: tuple[int, ...]  # the terms (one per group listing it) this phrase stands for
    needs: frozenset[str]  # the exact words of the tail


@dataclass(frozen=True)
class _CompiledRule:
    name: str
    all: frozenset[str]
    any: frozenset[str]
    not_: frozenset[str]  # `none` for scoring rules, `unless` for vetoes
    score: float
    shown: tuple[str, ...]  # groups whose terms are shown as evidence, in config order

    def fires(self, found: set[str]) -> bool:
        return (
            self.all <= found
            and (not self.any or not self.any.isdisjoint(found))
            and self.not_.isdisjoint(found)
        )


def _compile_rule(rule: Rule | Veto) -> _CompiledRule:
    excluded = rule.none if isinstance(rule, Rule) else rule.unless
    shown = tuple(dict.fromkeys([*rule.all, *rule.any]))
    return _CompiledRule(
        name=rule.name,
        all=frozenset(rule.all),
        any=frozenset(rule.any),
        not_=frozenset(excluded),
        score=rule.score if isinstance(rule, Rule) else 0.0,
        shown=shown,
    )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class _Compiled:
    """Settings turned into lookup tables: built once, used for every text.

    A text is folded and split into words once. Set intersections (in C) find the words that
    can start a term; only those are looked at one by one, so a text that mentions nothing of
    the case costs a split, a set and two intersections whatever the number of terms.
    """

    def __init__(self, settings: RelevanceSettings) -> None:
        self.threshold = settings.threshold
        self.labels: list[str] = []  # term id -> "group:term as written"
        self.group_of: list[str] = []  # term id -> group
        self.single: dict[str, tuple[int, ...]] = {}  # one exact word -> term ids
        # exact first word -> [phrases starting with it]
        self.multi: dict[str, list[_Phrase]] = {}
        # a prefix first word, indexed by its first `plen` letters -> [(prefix, phrase)]
        self.prefixed: dict[str, list[tuple[str, _Phrase]]] = {}
        self.plen = 0
        self.substrings: list[tuple[str, int]] = []
        by_shape: dict[tuple[str, bool, _Tail], list[int]] = {}
        for group, terms in settings.groups.items():
            for term in terms:
                term_id = len(self.labels)
                self.labels.append(f"{group}:{term.strip()}")
                self.group_of.append(group)
                pattern = compile_term(term)
                if pattern.substring is not None:
                    self.substrings.append((pattern.substring, term_id))
                    continue
                (first, is_prefix), tail = pattern.words[0], pattern.words[1:]
                by_shape.setdefault((first, is_prefix, tail), []).append(term_id)
        prefixes: list[tuple[str, _Phrase]] = []
        for (first, is_prefix, tail), ids in by_shape.items():
            phrase = _Phrase(tail, tuple(ids), frozenset(w for w, p in tail if not p))
            if is_prefix:
                prefixes.append((first, phrase))
            elif tail:
                self.multi.setdefault(first, []).append(phrase)
            else:
                self.single[first] = tuple(ids)
        if prefixes:
            # every prefix is at least `plen` long, so a word's first `plen` letters find them all
            self.plen = min(len(first) for first, _ in prefixes)
            for first, phrase in prefixes:
                self.prefixed.setdefault(first[: self.plen], []).append((first, phrase))
        self.starts = frozenset(self.single) | frozenset(self.multi)
        self.heads = frozenset(self.prefixed)
        self.head_of = itemgetter(slice(0, self.plen))
        self.rules = [_compile_rule(r) for r in settings.rules]
        self.drop = [_compile_rule(r) for r in settings.drop]
        self.demote = [_compile_rule(r) for r in settings.demote]
        self.court_groups = frozenset(settings.court_groups)
        self.court_acts = frozenset(settings.court_acts)
        self.court_unless = frozenset(settings.court_unless)

    def scan(self, text: str, found: set[int]) -> None:
        """Add to `found` the id of every term that occurs in `text`."""
        folded = _fold_fast(text)
        ascii_only = folded.isascii()
        words = folded.translate(_ASCII_SEPARATORS).split() if ascii_only else _WORD.findall(folded)
        distinct = set(words)
        for word in self.starts.intersection(distinct):
            ids = self.single.get(word)
            if ids is not None:
                found.update(ids)
            phrases = self.multi.get(word)
            if phrases:
                _match_phrases(words, distinct, word, phrases, found)
        if self.plen:
            candidates = list(distinct)
            heads = list(map(self.head_of, candidates))
            hit = self.heads.intersection(heads)
            if hit:
                for word in compress(candidates, map(hit.__contains__, heads)):
                    for first, phrase in self.prefixed[word[: self.plen]]:
                        if word.startswith(first):
                            if phrase.tail:
                                _match_phrases(words, distinct, word, (phrase,), found)
                            else:
                                found.update(phrase.ids)
        if self.substrings and not ascii_only and _CJK.search(folded):
            for substring, term_id in self.substrings:
                if substring in folded:
                    found.add(term_id)

    def evidence(self, rule: _CompiledRule, found_ids: list[int]) -> str:
        """'group:term' for the first term found of each group the rule looks for."""
        first: dict[str, str] = {}
        for i in found_ids:
            group = self.group_of[i]
            if group in rule.shown and group not in first:
                first[group] = self.labels[i]
        return " + ".join(first[g] for g in rule.shown if g in first)

    def _first(self, ids: Iterable[int], wanted: frozenset[str]) -> str:
        """The first 'group:term' found among the groups wanted."""
        return next((self.labels[i] for i in sorted(ids) if self.group_of[i] in wanted), "")

    def court_label(self, title: str, text: str, kind: str, ids: list[int]) -> tuple[bool, str]:
        """Whether a kept text reports an act in a proceeding (court) or is news, and why.

        Court: a forum or party is named (or the source is a court's own) and an act of the
        proceeding (filed, ruled, hearing, judgment ...) is in the title, or in the text's first
        sentence when the title names the forum. News: anything else, and whatever reads, by its
        title, as a feature, interview, analysis, op-ed, vote, statement, report or reaction.
        """
        found = {self.group_of[i] for i in ids}
        forum = self._first(ids, self.court_groups)
        if not self.court_acts:  # the loose rule: a forum named is enough
            if kind == "court":
                return True, "court: a court's own source"
            if forum:
                return True, f"court: {forum}"
            return False, "news: no forum named"
        title_ids: set[int] = set()
        self.scan(title, title_ids)
        genre = self._first(title_ids, self.court_unless)
        if genre:
            return False, f"news: the title reads as news ({genre})"
        if not forum and kind != "court":
            return False, "news: no forum or party named"
        act = self._first(title_ids, self.court_acts)
        if not act and text and self.court_acts & found:
            title_forum = self._first(title_ids, self.court_groups) or kind == "court"
            lead_ids: set[int] = set()
            self.scan(_first_sentence(text), lead_ids)
            if title_forum:
                act = self._first(lead_ids, self.court_acts)
        if not act:
            return False, "news: no act of a proceeding in the title or lead"
        where = forum or "a court's own source"
        return True, f"court: {act} + {where}"

    def judge(self, title: str, text: str, kind: str) -> Match:
        found: set[int] = set()
        self.scan(f"{title}{_BETWEEN}{text}" if title and text else title or text, found)
        ids = sorted(found)
        groups = {self.group_of[i] for i in ids}
        terms = tuple(self.labels[i] for i in ids)
        fired = [r for r in self.rules if r.fires(groups)]
        score = sum((r.score for r in fired), 0.0)
        names = [r.name for r in fired]
        t = self.threshold

        def listing(rules: list[_CompiledRule], weights: bool) -> str:
            parts = []
            for r in rules:
                part = f"{r.name} ({self.evidence(r, ids)})"
                if weights:
                    part += f" {'+' if r.score >= 0 else ''}{_num(r.score)}"
                parts.append(part)
            return ", ".join(parts)

        vetoes = [r for r in self.drop if r.fires(groups)]
        if vetoes:
            reason = "dropped by " + "; ".join(
                f"{r.name} ({self.evidence(r, ids)})" for r in vetoes
            )
            return Match(
                "dropped", score, tuple(names + [r.name for r in vetoes]), terms, reason, False
            )
        weights = len(fired) > 1
        if score >= t:
            caps = [r for r in self.demote if r.fires(groups)]
            if caps:
                held = "; ".join(f"{r.name} ({self.evidence(r, ids)})" for r in caps)
                reason = (
                    f"context: held back by {held}; {listing(fired, weights)}, "
                    f"score {_num(score)} >= {_num(t)}"
                )
                return Match(
                    "context", score, tuple(names + [r.name for r in caps]), terms, reason, False
                )
            court, label = self.court_label(title, text, kind, ids)
            reason = f"kept: {listing(fired, weights)}, score {_num(score)} >= {_num(t)}; {label}"
            return Match("relevant", score, tuple(names), terms, reason, court)
        if score > 0:
            reason = f"context: {listing(fired, weights)}, score {_num(score)} < {_num(t)}"
            return Match("context", score, tuple(names), terms, reason, False)
        if fired:
            reason = f"dropped: {listing(fired, True)}, score {_num(score)} <= 0"
        elif terms:
            reason = f"dropped: no rule fired (found {', '.join(terms)}), score 0 < {_num(t)}"
        else:
            reason = f"dropped: no case term found, score 0 < {_num(t)}"
        return Match("dropped", score, tuple(names), terms, reason, False)


def _first_sentence(text: str, limit: int = 300) -> str:
    """The text up to its first full stop (at most `limit` characters): the lead's claim."""
    head = text[:limit]
    for mark in (". ", "。", "! ", "? "):
        at = head.find(mark)
        if at > 0:
            head = head[: at + 1]
    return head


def _match_phrases(
    words: list[str], distinct: set[str], word: str, phrases: Iterable[_Phrase], found: set[int]
) -> None:
    """Add the ids of the phrases (`word`, then each phrase's tail) that occur in `words`."""
    for phrase in phrases:
        # cheap test first: the phrase's exact words must all occur somewhere
        if phrase.needs <= distinct and _followed_by(words, word, phrase.tail):
            found.update(phrase.ids)


def _followed_by(words: list[str], word: str, tail: _Tail) -> bool:
    """Whether some occurrence of `word` in `words` is followed by the words of `tail`."""
    n = len(tail)
    start = 0
    while True:
        try:
            i = words.index(word, start)
        except ValueError:
            return False
        if i + n >= len(words):
            return False
        if all(
            words[i + 1 + k].startswith(w) if is_prefix else words[i + 1 + k] == w
            for k, (w, is_prefix) in enumerate(tail)
        ):
            return True
        start = i + 1


class RuleEngine:
    """Judges texts against compiled relevance settings; per-source overrides cached."""

    def __init__(self, settings: RelevanceSettings) -> None:
        self.settings = settings
        self._base = _Compiled(settings)
        # keyed by id(); the SourceRelevance is kept alive (and checked with `is`) so an id is
        # never reused for another object while cached
        self._per_source: dict[int, tuple[SourceRelevance, _Compiled]] = {}

    def check_source(self, source: SourceRelevance) -> None:
        """Raise ValueError if a source's overrides do not fit these settings."""
        self._compiled_for(source)

    def judge(
        self, title: str, text: str, *, source: SourceRelevance | None = None, kind: str = "news"
    ) -> Match:
        """Decide whether a title + text is relevant, context or dropped, and say why."""
        compiled = self._base if source is None else self._compiled_for(source)
        return compiled.judge(title, text, kind)

    def court_label(
        self, title: str, text: str, *, source: SourceRelevance | None = None, kind: str = "news"
    ) -> tuple[bool, str]:
        """Whether a text kept for another reason (`relevance: all`) is a court development."""
        compiled = self._base if source is None else self._compiled_for(source)
        found: set[int] = set()
        compiled.scan(f"{title}{_BETWEEN}{text}" if title and text else title or text, found)
        return compiled.court_label(title, text, kind, sorted(found))

    def _compiled_for(self, source: SourceRelevance) -> _Compiled:
        cached = self._per_source.get(id(source))
        if cached is not None and cached[0] is source:
            return cached[1]
        compiled = _Compiled(self.settings.with_source(source))
        self._per_source[id(source)] = (source, compiled)
        return compiled
