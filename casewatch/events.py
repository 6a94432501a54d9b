"""Events: different outlets' reports of one development, in any language. Pure: no I/O.

A relevant story is compared with the stories of the events dated near it (the candidates come
from an index by date, never from a scan) and joins the best one if their reports say the same
thing, else it starts an event. "The same thing" combines:
- the cosine of their sentence vectors (headline + first sentence, with the case's own
  vocabulary taken out first: every report of the case says "Uyghur", "ICC" and "China", so
  those words must not be what makes two reports alike);
- the act each reports (a ruling, a vote, a filing, a rejection ...): two reports of different
  acts are two developments even when their words are close (a debate and the vote after it);
- the distinctive names and numbers they share (Tajikistan, Bensouda, 266-0);
- how many days apart they are.
`score` returns the parts, so `why ITEM` can show them.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from casewatch.patterns import LazyPattern

# The `events:` section's type lives apart from the engine (see casewatch.sections).
from casewatch.sections import EventSettings
from casewatch.text import collapse, fold

# -- acts -------------------------------------------------------------------------------------
# What a headline says happened. Folded (lower case, no accents) word starts (a word ending in
# "." is whole: "confirma." is no start of "confirmation"), in the languages
# the bot reads: generic legal vocabulary, not one case's names. Verbs name the act; nouns only
# when the headline has no verb of an act ("China rejects UN report" is a rejection, not a
# report). Reactions (condemns, sparks outcry) are no act of their own: they fold into the
# development they react to.
_ACT_VERBS: dict[str, str] = {
    "decide": (
        "rules ruled decides decided upholds upheld overturn quash annul orders ordered "
        "convicts convicted sentenc finds found conclud grants granted reopen "
        "approves approved allows lets paves "
        "statue ordonne condamn rouvr delivre "
        "falla fallo resuelv dictamin ordena ordeno reabr habilit confirms confirmed confirma. confirmo revoc emite emitio "
        "emette emesso "
        "entscheid urteilt ordnet erlass "
        "裁定 判决 裁决 下令 批准"
    ),
    "refuse": (
        "reject declin refus dismiss denies denied deny halts halted blocks blocked shuns "
        "cannot stops stopped shuts closed "
        "rejett ecart "
        "rechaz descart desestim niega archiv frena "
        "respinge "
        "lehnt weist stoppt schliesst "
        "reddet "
        "拒绝 驳回"
    ),
    "file": (
        "file files filed submits submitted lodg seeks seek sought asks asked urges urged sues sued "
        "appeals appealed applies applied requests requested petition "
        "approch saisi depos demande "
        "demand denuncian denunciar present querell apel pide piden busca "
        "chiede "
        "beantragt fordert klagt "
        "basvur itiraz "
        "起诉 提交 要求 呼吁"
    ),
    "vote": (
        "vote voted votes passes passed adopts adopted recognis recogniz declares abstain "
        "votent adopte reconnai "
        "vota votan aprueb aprobo reconoc "
        "stimmt "
        "oyla tanid tanir "
        "投票 通过"
    ),
    "report": (
        "releases released publishes published warns documents documented "
        "publie "
        "publica "
        "veroffentlich "
        "发布"
    ),
    "deport": (
        "deports deported expels expelled extradit "
        "expulse renvoi "
        "deporta expulsa extradit "
        "abgeschob schiebt "
        "遣返 驱逐 引渡"
    ),
    "debate": "appears appeared comparait comparece erscheint",
    "arrest": "arrested arrests detains detained custody detenido arreste verhaftet 逮捕",
}
_ACT_NOUNS: dict[str, str] = {
    "decide": (
        "ruling decision judgment judgement verdict order ordinanza sentencia fallo urteil "
        "warrant mandat mandati orden karar"
    ),
    "refuse": "rejection refusal freno",
    "file": (
        "complaint communication application request lawsuit submission plainte requete "
        "denuncia querella solicitud richiesta antrag klage haftbefehl"
    ),
    "vote": "motion",
    "report": "report assessment rapport informe bericht rapor 报告",
    "debate": (
        "debate hearing trial proceedings debat audience audition proces udienza audiencia "
        "juicio anhorung durusma 辩论 听证"
    ),
    "deport": "deportation extradition expulsion",
}
# A headline about what is to come is a preview, another development than the act itself.
_UPCOMING = LazyPattern(
    r"\b(to (vote|debate|decide|rule|hear)|will (vote|debate|decide|rule)|set to|ahead of|"
    r"expected to|va (voter|debattre)|votara|debatira|decidira|soll|wird .* abstimmen)\b"
)
_NEGATED = LazyPattern(r"\b(won'?t|will not|not to|ne peut pas|n'?enquetera pas|no investigara)\b")


def _act_pattern(words: dict[str, str]) -> LazyPattern:
    parts = []
    for act, listed in words.items():
        alternatives = []
        for word in listed.split():
            if any("\u4e00" <= c <= "\u9fff" for c in word):
                alternatives.append(re.escape(word))
            elif word.endswith("."):  # a whole word ("confirma.", not "confirmation")
                alternatives.append(rf"\b{re.escape(word[:-1])}\b")
            else:
                alternatives.append(rf"\b{re.escape(word)}")
        parts.append(f"(?P<{act}>{'|'.join(alternatives)})")
    return LazyPattern("|".join(parts))


_VERBS = _act_pattern(_ACT_VERBS)
_NOUNS = _act_pattern(_ACT_NOUNS)


def act(title: str, lead: str = "") -> str | None:
    """The act a report names: of the first verb of an act in the headline, else of its first
    noun of an act, else of the lead's first verb; "upcoming" for a preview; None if none."""
    headline = fold(title)
    if _UPCOMING.search(headline):
        return "upcoming"
    if _NEGATED.search(headline):
        return "refuse"
    for pattern, text in ((_VERBS, headline), (_NOUNS, headline), (_VERBS, fold(lead))):
        found = pattern.search(text)
        if found is not None and found.lastgroup is not None:
            return found.lastgroup
    return None


# -- names and numbers ------------------------------------------------------------------------
_WORD = LazyPattern(r"[^\W\d_][\w'’-]*|\d[\d.,:-]*\d|\d", re.UNICODE)
_SENTENCE_END = LazyPattern(r"[.!?。！？]\s")


# Capitalised words that start many headlines or name no one.
def _word_set(text: str) -> frozenset[str]:
    return frozenset(fold(word) for word in text.split())


_COMMON_CAPS = _word_set(
    "a an the this that these those in on at of for to by with from as after before over "
    "under about against amid why how what who when where which will would can could may "
    "new first second third last more most not no yes is are was were has have had it its "
    "he she they we our their his her de la le les el los las du des del un une una y et "
    "und der die das ein eine en se su por para con sur dans pour au aux ve bir ile icin "
    "mr mrs ms dr sir breaking update live exclusive analysis opinion editorial video "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december "
    # institutions every legal case names: not what tells two developments apart
    "international court courts justice criminal tribunal parliament house commons senate "
    "congress assembly council minister ministry government state states republic united "
    "nations human rights office prosecutor prosecutors chamber supreme federal european "
    "union president prime judge judges law legal public national world"
)


def _stem(word: str) -> str:
    """A name compared across languages and inflections: its first five folded letters."""
    return fold(word)[:5]


def names(text: str, stopwords: frozenset[str], *, sentence_starts: bool = False) -> frozenset[str]:
    """Distinctive names and numbers: capitalised words (but common ones: "The", "New"...),
    numbers but years.

    Words of the case's own vocabulary (`stopwords`, folded) are left out: every report of the
    case names the Uyghurs and the ICC.
    """
    return frozenset().union(*entities(text, stopwords, sentence_starts=sentence_starts))


def entities(
    text: str, stopwords: frozenset[str], *, sentence_starts: bool = False
) -> tuple[frozenset[str], ...]:
    """The names of `names`, grouped: adjacent capitalised words are one name ("Rodrigo
    Duterte", "South Africa"), so a person named in full counts once."""
    groups: list[set[str]] = []
    starts = {0} | {m.end() for m in _SENTENCE_END.finditer(text)}
    last_end = -2  # end of the last name word (-2: the last name was a number, or none)
    for match in _WORD.finditer(text):
        word = re.sub(r"['’]s$", "", match.group()).strip("'’-")
        if not word:
            continue
        key: str | None = None
        if word[0].isdigit():
            digits = re.sub(r"\D", "", word)
            if len(digits) >= 2 and not (len(digits) == 4 and digits[:2] in ("19", "20")):
                key = "#" + word.replace(",", "").replace(".", "")
        elif word[0].isupper() and (match.start() not in starts or sentence_starts):
            folded = fold(word)
            if not (
                len(folded) < 3
                or folded in _COMMON_CAPS
                or folded in _CALENDAR
                or _CONTRACTION.search(folded)
                or folded in stopwords
                or folded.rstrip("s") in stopwords
            ):
                key = _stem(word)
        if key is None:
            continue
        word_key = not key.startswith("#")
        if word_key and last_end >= 0 and not text[last_end : match.start()].strip():
            groups[-1].add(key)
        else:
            groups.append({key})
        last_end = match.end() if word_key else -2
    return tuple(frozenset(g) for g in groups)


# -- dates a report mentions ("On June 18", "el 18 de junio", "26 January") -------------------
_MONTHS = {
    name: number
    for number, names_ in enumerate(
        (
            "january jan enero janvier januar ocak gennaio janeiro",
            "february feb febrero fevrier februar subat febbraio fevereiro",
            "march mar marzo mars marz mart marco",
            "april apr abril avril nisan aprile",
            "may mayo mai mayis maggio maio",
            "june jun junio juin juni haziran giugno junho",
            "july jul julio juillet juli temmuz luglio julho",
            "august aug agosto aout agustos",
            "september sept sep septiembre septembre eylul settembre setembro",
            "october oct octubre octobre oktober ekim ottobre outubro",
            "november nov noviembre novembre kasim novembro",
            "december dec diciembre decembre dezember aralik dicembre dezembro",
        ),
        start=1,
    )
    for name in names_.split()
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH = LazyPattern(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?({_MONTH})\b\.?|"
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"
)


# Weekdays ("on Thursday", "jeudi", "am Montag"): the last such day on or before publication.
_WEEKDAYS = {
    name: number
    for number, names_ in enumerate(
        (
            "monday lundi lunes montag lunedi pazartesi",
            "tuesday mardi martes dienstag martedi sali",
            "wednesday mercredi miercoles mittwoch mercoledi carsamba",
            "thursday jeudi jueves donnerstag giovedi persembe",
            "friday vendredi viernes freitag venerdi cuma",
            "saturday samedi sabado samstag sabato cumartesi",
            "sunday dimanche domingo sonntag domenica pazar",
        )
    )
    for name in names_.split()
}
_WEEKDAY = LazyPattern(rf"\b({'|'.join(_WEEKDAYS)})\b")
# Days and months, in every language read, name no one ("am Dienstag", "en juillet").
_CALENDAR = frozenset(_WEEKDAYS) | frozenset(_MONTHS)
# "Don't", "I'm", "We'll" start a sentence a headline's colon hides: no name.
_CONTRACTION = LazyPattern(r"['’](?:t|m|re|ve|ll|d)$")
_YESTERDAY = LazyPattern(r"\b(yesterday|ayer|gestern|ieri|dun)\b")


def named_days(text: str, published: date) -> frozenset[date]:
    """The days a report says its act happened: weekdays it names ("on Thursday") and
    "yesterday", as dates (the last such day on or before publication), with its dates."""
    folded = fold(text)
    found = set(mentioned_days(text, published))
    for match in _WEEKDAY.finditer(folded):
        back = (published.weekday() - _WEEKDAYS[match.group(1)]) % 7
        found.add(published - timedelta(days=back))
    if _YESTERDAY.search(folded):
        found.add(published - timedelta(days=1))
    return frozenset(found)


_AHEAD_DAYS = 31  # "the hearing on 11 and 12 Jan" in a December report is next month's


def mentioned_days(text: str, published: date) -> frozenset[date]:
    """Days a report names, in the year before its publication or the month after it ("June 18"
    in a July report is last month's June 18; in a May report, last year's; "12 Jan" in a
    January 10 report is two days ahead)."""
    found: set[date] = set()
    for match in _DAY_MONTH.finditer(fold(text)):
        day_text, month_text = (
            (match.group(1), match.group(2))
            if match.group(1)
            else (
                match.group(4),
                match.group(3),
            )
        )
        month, day = _MONTHS[month_text], int(day_text)
        for year in (published.year + 1, published.year, published.year - 1):
            try:
                when = date(year, month, day)
            except ValueError:
                break
            if when <= published + timedelta(days=_AHEAD_DAYS):
                found.add(when)
                break
    return frozenset(found)


# -- the text that is embedded ------------------------------------------------------------------


# A full stop inside a sentence: after initials ("Karim A.A. Khan", "the U.N. office", "Rodrigo
# R. Duterte"), a month ("on Nov. 21"), a title ("Senior Gen. Min Aung Hlaing") or the "v." of a
# case's name; or before a lower-case word or a number ("Aug. 31").
_ABBREVIATIONS = _word_set(
    "jan feb mar apr jun jul aug sep sept oct nov dec mr mrs ms dr gen sen rep gov lt col capt "
    "prof st no v vs jr sr"
)
_INITIALS = LazyPattern(r"(?:\w\.)+\w|\w")
_FULL_STOP = LazyPattern(r"[.!?。！？]\s(?=[^\s\da-z])")


def first_sentence(lead: str, *, budget: int = 240) -> str:
    """The first sentence of a lead (at most `budget` characters)."""
    text = collapse(lead)
    for match in _FULL_STOP.finditer(text):
        if match.start() >= budget:
            break
        if text[match.start()] == "." and _abbreviated(text[: match.start()]):
            continue
        return text[: match.start() + 1]
    return text[:budget]


def _abbreviated(before: str) -> bool:
    """Whether the word before a full stop is an abbreviation or initials."""
    words = before.rsplit(None, 1)
    word = words[-1].lstrip("(\"'“‘«") if words else ""
    return bool(_INITIALS.fullmatch(word)) or fold(word) in _ABBREVIATIONS


@functools.lru_cache(maxsize=8)
def _vocabulary_pattern(stopwords: frozenset[str]) -> re.Pattern[str] | None:
    """The case's vocabulary as one pattern (made once per vocabulary: every story's text)."""
    words = sorted((w for w in stopwords if w), key=len, reverse=True)
    if not words:
        return None
    parts = []
    for word in words:
        escaped = re.escape(word)
        if any("\u4e00" <= c <= "\u9fff" for c in word):
            parts.append(escaped)
        else:
            parts.append(rf"\b{escaped}\w*")
    return re.compile("|".join(parts), re.IGNORECASE)


_LETTERS = LazyPattern(r"[^\W\d_]{2,}")


def shouting(text: str) -> bool:
    """Whether a text is written in capitals ("URGENT REQUEST AND APPLICATION FOR ..."): four
    words or more, nearly all of them in capitals."""
    words = _LETTERS.findall(text)
    return len(words) >= 4 and sum(w.isupper() for w in words) >= 0.8 * len(words)


def unshout(text: str) -> str:
    """A text in capitals in sentence case (its capitals tell no name, and the model reads
    capitals as another text); any other text as it is."""
    if not shouting(text):
        return text
    lower = text.lower()
    return lower[:1].upper() + lower[1:]


def event_text(title: str, lead: str, stopwords: frozenset[str]) -> str:
    """What is embedded for a report: its headline and first sentence (in sentence case if
    written in capitals), without the case's vocabulary (folded matching, so "Ouïghours" goes
    with "ouighour")."""
    title, lead = unshout(title), unshout(lead)
    text = collapse(f"{title}. {first_sentence(lead)}" if lead else title)
    pattern = _vocabulary_pattern(stopwords)
    if pattern is None:
        return text
    folded = fold(text)
    if len(folded) != len(text):  # folding changed lengths: fall back to the plain text
        return collapse(pattern.sub(" ", text))
    keep = []
    last = 0
    for match in pattern.finditer(folded):
        keep.append(text[last : match.start()])
        last = match.end()
    keep.append(text[last:])
    return collapse(" ".join(keep))


# -- scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What event matching knows of one story. `vector`: its sentence vector, any iterable of
    floats (kept as a tuple, with its squared length, for `_cosine`)."""

    vector: Iterable[float]
    day: date
    act: str | None
    names: frozenset[str]
    mentions: frozenset[date] = frozenset()  # the latest day the report names, if earlier than it
    # names with the capitalised words that start a sentence: "Cambodia deports ..." (noisier:
    # only a disagreement of them counts)
    all_names: frozenset[str] = frozenset()
    # the days the report says its act happened (weekdays and dates of its headline and first
    # sentence): two reports that name different days report different acts
    act_days: frozenset[date] = frozenset()
    groups: tuple[frozenset[str], ...] = ()  # `names` grouped by `entities`
    norm2: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vector = self.vector
        if not isinstance(vector, tuple):
            tolist = getattr(vector, "tolist", None)  # a numpy array gives Python floats at once
            vector = tuple(tolist() if tolist is not None else vector)
            object.__setattr__(self, "vector", vector)
        object.__setattr__(self, "norm2", math.fsum(x * x for x in vector))


def report_of(
    title: str, lead: str, day: date, vector: Iterable[float], stopwords: frozenset[str]
) -> Report:
    title, lead = unshout(title), unshout(lead)
    text = f"{title}. {first_sentence(lead)}" if lead else title
    return Report(
        vector=vector,
        day=day,
        act=act(title, lead),
        names=names(text, stopwords),
        groups=entities(text, stopwords),
        all_names=names(text, stopwords, sentence_starts=True),
        mentions=_latest(mentioned_days(f"{title}. {lead}", day)) - {day},
        act_days=named_days(text, day),
    )


def _latest(days: frozenset[date]) -> frozenset[date]:
    """The latest of the days a report names: the day it tells of. Earlier ones are background
    ("South Africa on 6 March asked the court to strengthen the measures it ordered on 26
    January" is a development of 6 March, not a late report of 26 January's)."""
    return frozenset({max(days)}) if days else days


def refers(a: Report, b: Report) -> bool:
    """Whether one report names the day (give or take one) the other one is dated, or both
    name the same day ("On June 18, the court ..." in two late analyses)."""
    if not a.mentions and not b.mentions:
        return False
    days_a, days_b = a.mentions | {a.day}, b.mentions | {b.day}
    return any(
        abs((x - y).days) <= 1 for x in days_a for y in days_b if x in a.mentions or y in b.mentions
    )


def _near(days_a: frozenset[date], days_b: frozenset[date]) -> bool:
    return any(abs((x - y).days) <= 1 for x in days_a for y in days_b)


def days_apart(a: Report, b: Report) -> int:
    """Days between two reports; 0 when one names the other's day (a late analysis of it)."""
    return 0 if refers(a, b) else abs((a.day - b.day).days)


@dataclass(frozen=True)
class Score:
    """Why two reports are (or are not) one development: the parts of the score."""

    total: float
    cosine: float
    days: int
    same_act: str | None = None
    acts: tuple[str, str] | None = None  # two different acts
    shared_names: frozenset[str] = field(default_factory=frozenset)
    same_day: date | None = None  # the day both say their act happened
    names_differ: bool = False  # both name names, none the same
    # the days they say their acts happened differ, or one reports another act days after
    # the day the other's event says its act happened
    days_differ: bool = False
    # the second of `acts` is the act the other's event names (the other report names none)
    event_act: bool = False
    late: bool = False  # compared as a late report, beyond the window (see `choose_late`)

    def explain(self) -> str:
        parts = [f"meaning {self.cosine:.2f}"]
        if self.same_act:
            parts.append(f"same act: {self.same_act}")
        elif self.acts:
            theirs = f"{self.acts[1]} (its event's)" if self.event_act else self.acts[1]
            parts.append(f"different acts: {self.acts[0]} / {theirs}")
        if self.shared_names:
            parts.append("shared names: " + ", ".join(sorted(self.shared_names)))
        if self.names_differ:
            parts.append("no name in common")
        if self.same_day:
            parts.append(f"both say it happened on {self.same_day.isoformat()}")
        if self.days_differ:
            parts.append("their acts happened on different days")
        parts.append(f"{self.days} day{'s' if self.days != 1 else ''} apart")
        if self.late:
            parts.append("a late report: beyond the window, of its act or none, a name shared")
        return f"score {self.total:.2f} (" + "; ".join(parts) + ")"


def _cosine(a: Report, b: Report) -> float:
    """The cosine of two reports' vectors (unit vectors: their dot product), without numpy
    (the bot's process never imports it, 0.2 s a start): from their distance, which
    `math.dist` computes in C and to full precision (a 512-float pair in about 4 us, a Python
    dot product 18): |a - b|^2 = |a|^2 + |b|^2 - 2 a.b."""
    return (a.norm2 + b.norm2 - math.dist(a.vector, b.vector) ** 2) / 2


_RELATED_ACTS = {
    frozenset(("decide", "refuse")),
    frozenset(("decide", "vote")),
    frozenset(("decide", "arrest")),
}


def score(
    a: Report,
    b: Report,
    settings: EventSettings,
    *,
    event_days: frozenset[date] | None = None,
    event_acts: frozenset[str] = frozenset(),
) -> Score:
    """How much two reports look like one development. `event_days`: the days all the reports
    of `b`'s event name for their act (else `b`'s own); `event_acts`: the acts they name (read
    for `b` when `b` names none)."""
    cosine = _cosine(a, b)
    days = days_apart(a, b)
    total = cosine - settings.day_penalty * days
    # Both name the day of their act and it is one day: no two developments of the labelled set
    # do (while 50 pairs of reports of one development within a week do).
    named = refers(a, b)
    same_day = None if named else min(a.act_days & b.act_days, default=None)
    if named or same_day is not None:
        total += settings.date_bonus
    their_act = b.act if b.act is not None else _event_act(a.act, event_acts)
    same_act = a.act if a.act is not None and a.act == b.act else None
    acts = (a.act, their_act) if a.act and their_act and a.act != their_act else None
    other_act = False  # two acts that are not one development told two ways
    if same_act:
        total += settings.act_shared
        if abs((a.day - b.day).days) <= 1:
            total += settings.act_same_days
    elif acts:
        # A preview ("MPs to vote next week") is never the act it announces.
        if "upcoming" in acts:
            total -= 1.0
        elif frozenset(acts) in _RELATED_ACTS:
            total -= settings.act_related
        else:
            total -= settings.act_conflict
            other_act = True
    shared = a.names & b.names
    total += settings.name_bonus * min(_shared_entities(a, b), settings.max_names)
    names_differ = _names_differ(a.all_names, b.all_names)
    if names_differ:
        total -= settings.name_conflict
    their_days = b.act_days if event_days is None else event_days
    days_differ = bool(a.act_days and their_days and not _near(a.act_days, their_days))
    if not a.act_days and other_act and their_days:
        # A report of another act, published days after the day the event's act happened,
        # tells of a later development (the first appearance in court days after the arrest):
        # news of an act comes out the day of it or the next.
        days_differ = all((a.day - day).days > 1 for day in their_days)
    if days_differ:
        total -= settings.day_conflict
    return Score(
        total,
        cosine,
        days,
        same_act,
        acts,
        frozenset(shared),
        same_day,
        names_differ=names_differ,
        days_differ=days_differ,
        event_act=acts is not None and b.act is None,
    )


def _script(name: str) -> str:
    """The script a name is written in ("LATIN", "CYRILLIC"...); "" for a number."""
    first = name[0]
    if first.isascii():  # names are folded: most are plain ASCII
        return "" if first == "#" else "LATIN"
    return unicodedata.name(first, "").split(" ")[0]


def _names_differ(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two reports both name names and share none, comparing names only with names of
    a script both write, numbers with numbers: a Bulgarian report's "Лондон" is no other name
    than "London", and a Chinese report's one number ("12月9日") no other name than "Nice"."""
    if not a or not b or a & b:
        return False
    common = {_script(n) for n in a} & {_script(n) for n in b}
    return any(_script(n) in common for n in a) and any(_script(n) in common for n in b)


def _event_act(act_: str | None, event_acts: frozenset[str]) -> str | None:
    """The act a report that names none is read as, for a report naming `act_`: its event's,
    when none of the acts the event's reports name is `act_` or one told the same way (a
    headline without a verb, "Tribunal in London", is of the event's act, a hearing; a filing
    compared with it is another development). None when the event names `act_` or a related
    act, or none."""
    if act_ is None or not event_acts:
        return None
    if any(x == act_ or frozenset((x, act_)) in _RELATED_ACTS for x in event_acts):
        return None
    return min(event_acts, key=lambda x: (x == "upcoming", x))


def _shared_entities(a: Report, b: Report) -> int:
    """How many names two reports share, a name in several words counting once."""
    if not a.groups or not b.groups:
        return len(a.names & b.names)
    return min(
        sum(1 for g in a.groups if g & b.names),
        sum(1 for g in b.groups if g & a.names),
    )


@dataclass(frozen=True)
class Candidate:
    """An event near in time, with the reports (stories) it holds."""

    event_id: int
    reports: Sequence[Report]


@dataclass(frozen=True)
class Choice:
    """The event a story joins (None: it starts one) and the best score seen."""

    event_id: int | None
    best: Score | None = None
    best_event: int | None = None


def choose(report: Report, candidates: Iterable[Candidate], settings: EventSettings) -> Choice:
    """The event whose closest report scores highest, if it reaches the threshold."""
    best: Score | None = None
    best_event: int | None = None
    for cand in candidates:
        event_days = frozenset().union(*(o.act_days for o in cand.reports))
        event_acts = frozenset(o.act for o in cand.reports if o.act is not None)
        for other in cand.reports:
            if days_apart(report, other) > settings.window_days:
                continue
            got = score(report, other, settings, event_days=event_days, event_acts=event_acts)
            if best is None or got.total > best.total:
                best, best_event = got, cand.event_id
    if best is not None and best.total >= settings.threshold:
        return Choice(best_event, best, best_event)
    return Choice(None, best, best_event)


def choose_late(report: Report, candidates: Iterable[Candidate], settings: EventSettings) -> Choice:
    """For a report no event of its window takes (`choose` gave None): the older event it is a
    late report of, if any. Op-eds and analyses come weeks after a development; one joins it
    only when it tells of it plainly: it names the event's act or no act (a new act weeks
    later is a new development), shares a name with the report it is closest to, and scores
    `late_margin` above the threshold, the days apart counted as usual; naming the day of its
    act, that day is the event's."""
    best: Score | None = None
    best_event: int | None = None
    for cand in candidates:
        named = Counter(o.act for o in cand.reports if o.act is not None)
        if report.act is not None and named and report.act != max(named, key=named.__getitem__):
            continue
        event_acts = frozenset(named)
        event_days = frozenset().union(*(o.act_days for o in cand.reports))
        for other in cand.reports:
            if days_apart(report, other) > settings.late_days:
                continue
            got = score(report, other, settings, event_days=event_days, event_acts=event_acts)
            if not got.shared_names or got.acts is not None or got.days_differ:
                continue
            if best is None or got.total > best.total:
                best, best_event = replace(got, late=True), cand.event_id
    if best is not None and best.total >= settings.threshold + settings.late_margin:
        return Choice(best_event, best, best_event)
    return Choice(None, best, best_event)
