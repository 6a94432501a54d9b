"""Event matching decisions, without the model or a database: acts, names, dates, scores."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np
import pytest

from casewatch.events import (
    Candidate,
    EventSettings,
    Report,
    act,
    choose,
    choose_late,
    entities,
    event_text,
    first_sentence,
    mentioned_days,
    named_days,
    names,
    refers,
    report_of,
    score,
    unshout,
)

CASE_WORDS = frozenset({"uyghur", "uighur", "icc", "china", "international criminal court", "cpi"})
SETTINGS = EventSettings()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("ICC prosecutor rejects Uighur genocide complaint against China", "refuse"),
        ("China rejects UN report on Xinjiang", "refuse"),  # the verb, not the report
        ("UN human rights chief releases report on Xinjiang", "report"),
        ("Breaking down the UN's report on Xinjiang", "report"),  # no verb of an act: the noun
        ("Commons to vote on declaration of genocide in Xinjiang", "upcoming"),
        ("UK Parliament unanimously passes motion declaring genocide", "vote"),
        ("ICC seeks arrest warrants for Netanyahu and Gallant", "file"),
        ("International Criminal Court issues arrest warrants for Netanyahu", "decide"),
        ("Thailand deports 40 Uighurs to China", "deport"),
        ("La CPI refuse d'enquêter sur les Ouïghours", "refuse"),
        ("La CPI n'enquêtera pas sur la détention de musulmans en Chine", "refuse"),
        ("Argentina reabrió una causa por los uigures", "decide"),
        ("Un tribunal argentino frena un juicio contra China", "refuse"),
        ("Haftbefehl gegen Netanjahu beantragt", "file"),
        ("Thailand's deportation of Uyghurs sparks outcry", "deport"),  # a reaction: no act
        ("IStGH schließt Ermittlungen gegen China aus", "refuse"),  # rules out
        ("İngiliz Parlamentosu soykırım olarak tanıdı", "vote"),  # recognised
        ("Evidence of shameful abuses against Uyghurs", None),
        # hearings, told as a trial, proceedings, "audiences" (a noun that is no verb's start)
        ("What happened on day 1 of Israel's ICJ genocide trial?", "debate"),
        ("ICJ proceedings start as South Africa levels genocide charges", "debate"),
        ("Le «Tribunal ouïghour» de Londres commence ces audiences", "debate"),
        ("Duterte faces ICC 'virtually'; confirmation of charges hearing on Sept. 23", "debate"),
        ("La Cámara de Casación confirma el fallo", "decide"),
        # a request is a filing, whatever its page's later nouns ("decisions")
        ("Request for the indication of provisional measures and prior decisions", "file"),
        # Turkish: "karar" is a decision (a noun), "itiraz" an appeal against it
        ("İsrail'den Netanyahu hakkındaki tutuklama kararına itiraz", "file"),
        ("UCM Netanyahu hakkında tutuklama kararı çıkardı", "decide"),
    ],
)
def test_the_act_a_headline_reports_is_its_first_verb_of_an_act(
    title: str, expected: str | None
) -> None:
    assert act(title) == expected


def test_names_leave_out_the_case_vocabulary_and_sentence_starts() -> None:
    found = names(
        "Thailand deports 40 Uighurs as Bangkok says the ICC has no say. China agrees.", CASE_WORDS
    )
    # not Thailand (it starts a sentence), nor Uighurs, ICC, China (the case's words)
    assert found == {"#40", "bangk"}
    assert names("Vote passes 266-0 in 2021", frozenset()) == {"#266-0"}  # a year is no name


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("On June 18, the Federal Court held", date(2025, 7, 31), {date(2025, 6, 18)}),
        ("el 18 de junio la Cámara resolvió", date(2025, 6, 20), {date(2025, 6, 18)}),
        ("26th January ICJ orders Israel", date(2024, 3, 8), {date(2024, 1, 26)}),
        ("On Tuesday, Nov. 21, 2024, the chamber", date(2024, 12, 2), {date(2024, 11, 21)}),
        ("a December 14 report", date(2021, 1, 10), {date(2020, 12, 14)}),  # last year's
        ("Il 13 settembre si è conclusa", date(2021, 9, 14), {date(2021, 9, 13)}),
        ("on February 30", date(2021, 3, 1), set()),
        # a preview names the coming days: within a month ahead, they are this year's
        ("a hearing tomorrow, 11 and 12 Jan", date(2024, 1, 10), {date(2024, 1, 12)}),
        ("a hearing on 12 Jan", date(2023, 12, 30), {date(2024, 1, 12)}),
        ("no date here", date(2021, 3, 1), set()),
    ],
)
def test_days_a_report_names_are_read_in_the_year_before_it(
    text: str, published: date, expected: set[date]
) -> None:
    assert mentioned_days(text, published) == expected


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        # a Thursday report's "on Thursday" is that day; a Friday's "on Monday" four days back
        ("The Dutch parliament on Thursday passed", date(2021, 2, 25), {date(2021, 2, 25)}),
        ("The House of Commons voted on Monday", date(2021, 2, 26), {date(2021, 2, 22)}),
        ("a voté jeudi une résolution", date(2022, 1, 21), {date(2022, 1, 20)}),
        ("voted unanimously yesterday", date(2021, 2, 23), {date(2021, 2, 22)}),
        ("On June 18, the Federal Court held", date(2025, 7, 31), {date(2025, 6, 18)}),
        ("no day here", date(2021, 3, 1), set()),
    ],
)
def test_the_days_a_report_says_its_act_happened_include_weekdays_and_yesterday(
    text: str, published: date, expected: set[date]
) -> None:
    assert named_days(text, published) == expected


def test_a_name_in_several_words_is_one_name() -> None:
    found = entities("Ex-leader Rodrigo Duterte met South Africa's envoy on 23 Sept.", frozenset())
    assert set(found) == {
        frozenset({"rodri", "duter"}),
        frozenset({"south", "afric"}),
        frozenset({"#23"}),
    }


def test_the_embedded_text_is_headline_and_first_sentence_without_the_case_vocabulary() -> None:
    text = event_text(
        "Ouïghours : la CPI refuse d'enquêter",
        "La Cour pénale internationale a tranché. Une deuxième phrase.",
        frozenset({"ouighour", "cpi"}),
    )
    assert text == ": la refuse d'enquêter. La Cour pénale internationale a tranché."


@pytest.mark.parametrize(
    ("lead", "first"),
    [
        (
            "On Tuesday, Nov. 21, 2024, the chamber issued warrants. They name two men.",
            "On Tuesday, Nov. 21, 2024, the chamber issued warrants.",
        ),
        (
            "China can't work with the U.N. human rights office, he said. It was a farce.",
            "China can't work with the U.N. human rights office, he said.",
        ),
        (
            "Prosecutor Karim A.A. Khan seeks a warrant for Senior Gen. Min Aung Hlaing. Next.",
            "Prosecutor Karim A.A. Khan seeks a warrant for Senior Gen. Min Aung Hlaing.",
        ),
        ("Rodrigo R. Duterte appeared. He said little.", "Rodrigo R. Duterte appeared."),
        ("The report came out Aug. 31 in Geneva. Next.", "The report came out Aug. 31 in Geneva."),
        ("The court ruled. The lawyers appealed.", "The court ruled."),
        ("Le tribunal a tranché ! Les avocats font appel.", "Le tribunal a tranché !"),
    ],
)
def test_the_first_sentence_of_a_lead_runs_past_initials_months_and_titles(
    lead: str, first: str
) -> None:
    assert first_sentence(lead) == first


def _vector(angle: float) -> np.ndarray:
    """Unit vectors whose cosine is cos(angle difference)."""
    return np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)


def _report(angle: float, day: int, act_: str | None = None, *names_: str) -> Report:
    return Report(
        vector=_vector(angle),
        day=date(2022, 9, day),
        act=act_,
        names=frozenset(names_),
        all_names=frozenset(names_),
    )


CLOSE = 0.5  # cos 0.88
NEAR_MISS = 0.7  # cos 0.76: a report and the reply to it often come this close
MIDDLE = 1.0  # cos 0.54
FAR = 1.4  # cos 0.17


@pytest.mark.parametrize(
    ("a", "b", "joins"),
    [
        # close in meaning, same days: one development
        (_report(0, 1, "refuse"), _report(CLOSE, 1, "refuse"), True),
        (_report(0, 1), _report(CLOSE, 2), True),
        # far in meaning: two, whatever the day
        (_report(0, 1, "refuse"), _report(FAR, 1, "refuse"), False),
        # close in meaning but another act and other names: a report and the rejection of it
        (_report(0, 1, "report", "bache"), _report(NEAR_MISS, 2, "refuse", "beiji"), False),
        # a preview and the vote it announces: never one
        (_report(0, 1, "upcoming", "commo", "house"), _report(0.1, 8, "vote", "commo"), False),
        # middling meaning: shared names and the same act decide
        (_report(0, 1, "decide", "argen", "#18"), _report(MIDDLE, 1, "decide", "argen"), True),
        (_report(0, 1, "decide"), _report(MIDDLE, 1, "file"), False),
        # further apart than the window: a new development
        (_report(0, 1, "refuse"), _report(0.01, 20, "refuse"), False),
    ],
)
def test_a_report_joins_the_event_of_a_report_of_the_same_development(
    a: Report, b: Report, joins: bool
) -> None:
    choice = choose(b, [Candidate(7, [a])], SETTINGS)
    assert (choice.event_id == 7) is joins
    assert choice.best is None or choice.best.explain().startswith("score ")


def test_a_late_analysis_naming_the_day_of_the_development_joins_it() -> None:
    ruling = _report(0, 1, "decide")
    late = Report(
        vector=_vector(MIDDLE + 0.2),
        day=date(2022, 9, 30),
        act=None,
        names=frozenset(),
        mentions=frozenset({date(2022, 9, 1)}),
    )
    assert choose(late, [Candidate(3, [ruling])], SETTINGS).event_id == 3
    undated = Report(vector=late.vector, day=late.day, act=None, names=frozenset())
    assert choose(undated, [Candidate(3, [ruling])], SETTINGS).event_id is None


def test_the_best_scoring_event_wins_and_its_score_is_explained() -> None:
    story = _report(0, 5, "refuse", "beiji")
    near = Candidate(1, [_report(CLOSE, 5, "refuse")])
    nearer = Candidate(2, [_report(0.2, 4, "refuse", "beiji")])
    choice = choose(story, [near, nearer], SETTINGS)
    assert choice.event_id == 2
    assert choice.best is not None
    explained = choice.best.explain()
    assert "same act: refuse" in explained and "shared names: beiji" in explained
    assert "1 day apart" in explained
    assert score(story, story, SETTINGS).cosine == pytest.approx(1.0)


def test_two_votes_on_days_their_reports_name_apart_are_two_developments() -> None:
    """Two parliaments' genocide motions three days apart read alike; their reports name the
    days of the votes ("on Monday", "on Thursday"), and those differ."""
    canada = Report(
        vector=_vector(0),
        day=date(2021, 2, 22),
        act="vote",
        names=frozenset(),
        act_days=frozenset({date(2021, 2, 22)}),
    )
    dutch = Report(
        vector=_vector(0.8),
        day=date(2021, 2, 25),
        act="vote",
        names=frozenset(),
        act_days=frozenset({date(2021, 2, 25)}),
    )
    assert choose(dutch, [Candidate(1, [canada])], SETTINGS).event_id is None
    # the same vote told the next day ("on Monday" in Tuesday's paper) joins it
    told_later = Report(
        vector=_vector(0.8),
        day=date(2021, 2, 23),
        act="vote",
        names=frozenset(),
        act_days=frozenset({date(2021, 2, 22)}),
    )
    assert choose(told_later, [Candidate(1, [canada])], SETTINGS).event_id == 1


def test_a_decision_reported_as_a_refusal_is_a_small_disagreement_a_debate_and_an_arrest_a_big_one() -> (
    None
):
    ruling = _report(0, 1, "decide")
    related = score(_report(MIDDLE - 0.3, 1, "refuse"), ruling, SETTINGS)
    unrelated = score(_report(MIDDLE - 0.3, 1, "debate"), _report(0, 1, "arrest"), SETTINGS)
    assert related.total - unrelated.total == pytest.approx(
        SETTINGS.act_conflict - SETTINGS.act_related
    )
    assert SETTINGS.act_related < SETTINGS.act_conflict


def test_the_days_of_an_event_are_those_all_its_reports_name() -> None:
    """A preview of hearings names their day; the application's event named its own day in
    one report, not in the closest one: the event's days still tell them apart."""
    filed = Report(
        vector=_vector(0),
        day=date(2023, 12, 29),
        act="file",
        names=frozenset(),
        act_days=frozenset({date(2023, 12, 29)}),
    )
    closest = Report(vector=_vector(0), day=date(2024, 1, 4), act=None, names=frozenset())
    preview = Report(
        vector=_vector(0.8),
        day=date(2024, 1, 10),
        act=None,
        names=frozenset(),
        act_days=frozenset({date(2024, 1, 12)}),
    )
    assert choose(preview, [Candidate(1, [filed, closest])], SETTINGS).event_id is None
    assert choose(preview, [Candidate(1, [closest])], SETTINGS).event_id == 1


def test_a_report_of_an_act_joins_no_event_of_another_act_through_a_report_naming_none() -> None:
    """Lawyers filing a dossier with the ICC six days after a tribunal's hearings opened: the
    closest report of the hearings ("London hosting a People's Tribunal") names no act, but
    the hearings' other reports do, and a filing is not a hearing."""
    filing = _report(0, 10, "file", "east")
    verbless = _report(MIDDLE, 4, None, "east")
    hearing = _report(FAR, 4, "debate")
    alone = choose(filing, [Candidate(1, [verbless])], SETTINGS)
    assert alone.event_id == 1
    choice = choose(filing, [Candidate(1, [verbless, hearing])], SETTINGS)
    assert choice.event_id is None
    assert choice.best is not None
    assert "different acts: file / debate (its event's)" in choice.best.explain()
    # an event whose reports name a related act (a ruling told as a refusal) is no conflict
    ruled = choose(
        _report(0, 10, "refuse", "east"),
        [Candidate(1, [verbless, _report(FAR, 9, "decide")])],
        SETTINGS,
    )
    assert ruled.event_id == 1


@pytest.mark.parametrize(
    ("a", "b", "differ"),
    [
        ({"londo", "nice"}, {"paris"}, True),
        ({"londo"}, {"лондо"}, False),  # Latin and Cyrillic names are not compared
        ({"londo", "paris"}, {"лондо", "berli"}, True),  # both write Latin: compared
        ({"geoff", "nice"}, {"#12"}, False),  # names and a number only: not compared
        ({"geoff", "#12"}, {"#9"}, True),  # numbers with numbers
        ({"londo"}, {"londo", "лондо"}, False),  # one shared
        (set(), {"londo"}, False),
    ],
)
def test_two_reports_disagree_on_names_only_in_a_script_both_write(
    a: set[str], b: set[str], differ: bool
) -> None:
    one = Report(_vector(0), date(2021, 12, 10), None, frozenset(a), all_names=frozenset(a))
    two = Report(_vector(0), date(2021, 12, 10), None, frozenset(b), all_names=frozenset(b))
    assert score(one, two, SETTINGS).names_differ is differ


def test_a_text_in_capitals_is_read_in_sentence_case() -> None:
    """A court's filing page whose lead is all capitals: its words are no names, and the model
    reads them as ordinary text."""
    lead = "URGENT REQUEST AND APPLICATION FOR THE INDICATION OF ADDITIONAL MEASURES"
    assert (
        unshout(lead) == "Urgent request and application for the indication of additional measures"
    )
    assert unshout("ICJ orders Israel to act") == "ICJ orders Israel to act"
    assert event_text("Request by South Africa", lead, frozenset()).endswith(
        "Urgent request and application for the indication of additional measures"
    )
    page = report_of("Request by South Africa", lead, date(2024, 3, 6), _vector(0), frozenset())
    assert page.names == {"south", "afric"}


def _late(day: date, act_: str | None, *names_: str, angle: float = 0.3) -> Report:
    return Report(
        vector=_vector(angle),
        day=day,
        act=act_,
        names=frozenset(names_),
        all_names=frozenset(names_),
    )


RULING = Candidate(
    4,
    [
        _late(date(2021, 12, 9), "decide", "londr", angle=0),
        _late(date(2021, 12, 9), None, "londr", angle=0),
    ],
)


@pytest.mark.parametrize(
    ("late", "joins"),
    [
        # an op-ed 18 days after a ruling, of the ruling, naming London as its reports do
        (_late(date(2021, 12, 27), "decide", "londr"), True),
        (_late(date(2021, 12, 27), None, "londr"), True),
        # ... but not without a name in common, nor of another act (an appeal weeks after a
        # ruling is a new development), nor beyond `late_days`, nor when far in meaning
        (_late(date(2021, 12, 27), "decide"), False),
        (_late(date(2021, 12, 27), "file", "londr"), False),
        (_late(date(2022, 2, 1), "decide", "londr"), False),
        (_late(date(2021, 12, 27), "decide", "londr", angle=FAR), False),
    ],
)
def test_a_late_report_joins_an_older_event_only_when_it_plainly_tells_of_it(
    late: Report, joins: bool
) -> None:
    assert choose(late, [RULING], SETTINGS).event_id is None  # beyond the window
    choice = choose_late(late, [RULING], SETTINGS)
    assert (choice.event_id == 4) is joins
    if joins:
        assert choice.best is not None and "a late report" in choice.best.explain()


def test_a_late_report_of_an_act_may_join_an_event_whose_reports_name_none() -> None:
    """No act named by the event: nothing for the late report's act to disagree with."""
    verbless = Candidate(5, [_late(date(2021, 12, 9), None, "londr", angle=0)])
    assert choose_late(_late(date(2021, 12, 27), "decide", "londr"), [verbless], SETTINGS).event_id
    filed = Candidate(5, [_late(date(2021, 12, 9), "file", "londr", angle=0)])
    late = _late(date(2021, 12, 27), "decide", "londr")
    assert choose_late(late, [filed], SETTINGS).event_id is None


def test_a_late_report_naming_another_day_for_its_act_is_another_development() -> None:
    dated = Report(
        vector=_vector(0.3),
        day=date(2021, 12, 27),
        act="decide",
        names=frozenset({"londr"}),
        all_names=frozenset({"londr"}),
        act_days=frozenset({date(2021, 12, 24)}),
    )
    ruled = Candidate(
        4,
        [
            Report(
                vector=_vector(0),
                day=date(2021, 12, 9),
                act="decide",
                names=frozenset({"londr"}),
                act_days=frozenset({date(2021, 12, 9)}),
            )
        ],
    )
    assert choose_late(dated, [ruled], SETTINGS).event_id is None
    assert choose_late(replace(dated, act_days=frozenset()), [ruled], SETTINGS).event_id == 4


def test_two_reports_saying_their_act_happened_on_one_day_are_closer() -> None:
    """A state paper's "the second hearing ended on Monday" and another's "on 13 September"
    tell of one Monday: that agreement counts like a late report naming the day."""
    monday = date(2021, 9, 13)
    italian = Report(
        vector=_vector(0),
        day=date(2021, 9, 14),
        act=None,
        names=frozenset(),
        act_days=frozenset({monday}),
    )
    german = Report(
        vector=_vector(1.25),  # cos 0.32: alone, not enough
        day=date(2021, 9, 15),
        act=None,
        names=frozenset(),
        act_days=frozenset({monday}),
    )
    choice = choose(german, [Candidate(4, [italian])], SETTINGS)
    assert choice.event_id == 4
    assert choice.best is not None
    assert "both say it happened on 2021-09-13" in choice.best.explain()
    undated = Report(vector=german.vector, day=german.day, act=None, names=frozenset())
    assert choose(undated, [Candidate(4, [italian])], SETTINGS).event_id is None


def test_another_act_reported_days_after_the_events_act_is_a_later_development() -> None:
    """The arrest was on Tuesday (its reports say so); a report of the first appearance in
    court, published on Friday, names no day: another act, three days later, is another
    development, however alike the two read."""
    tuesday = date(2025, 3, 11)
    arrest = Report(
        vector=_vector(0),
        day=tuesday,
        act="arrest",
        names=frozenset({"duter"}),
        act_days=frozenset({tuesday}),
    )
    appearance = Report(
        vector=_vector(0.5),  # cos 0.88
        day=date(2025, 3, 14),
        act="debate",
        names=frozenset({"duter"}),
    )
    choice = choose(appearance, [Candidate(2, [arrest])], SETTINGS)
    assert choice.event_id is None
    assert choice.best is not None and choice.best.days_differ
    assert "their acts happened on different days" in choice.best.explain()
    # the same report the day after the arrest is news of it, read as another act
    next_day = Report(
        vector=appearance.vector, day=date(2025, 3, 12), act="debate", names=appearance.names
    )
    assert choose(next_day, [Candidate(2, [arrest])], SETTINGS).event_id == 2
    # and a late report of the same act is still the same development
    late = Report(vector=appearance.vector, day=appearance.day, act="arrest", names=arrest.names)
    assert choose(late, [Candidate(2, [arrest])], SETTINGS).event_id == 2


def test_two_reports_of_one_act_published_within_a_day_are_closer() -> None:
    """News of an act comes out within a day: "ICC prosecutor rejects complaint" and "ICC
    rejects calls to investigate" the same morning read far apart once the case's words are
    gone, but tell of one refusal."""
    first = _report(0, 15, "refuse")
    same_day = _report(1.3, 15, "refuse")  # cos 0.27
    assert choose(same_day, [Candidate(5, [first])], SETTINGS).event_id == 5
    days_later = _report(1.3, 18, "refuse")
    assert choose(days_later, [Candidate(5, [first])], SETTINGS).event_id is None
    other_act = _report(1.3, 15, "file")
    assert choose(other_act, [Candidate(5, [first])], SETTINGS).event_id is None


def test_a_report_naming_several_days_tells_of_the_latest() -> None:
    """A request of 6 March that names the order of 26 January it builds on is no late report
    of that order: only the day it tells of counts."""
    request = report_of(
        "South Africa asks the court to act",
        "South Africa on 6 March 2024 asked the court to strengthen the measures it ordered on"
        " 26 January 2024.",
        date(2024, 3, 7),
        _vector(0),
        frozenset(),
    )
    assert request.mentions == {date(2024, 3, 6)}
    order = Report(vector=_vector(0.3), day=date(2024, 1, 26), act="decide", names=frozenset())
    assert not refers(request, order)
    late = report_of(
        "What the order means",
        "On 26 January 2024 the court ordered measures.",
        date(2024, 3, 7),
        _vector(0),
        frozenset(),
    )
    assert refers(late, order)


def test_days_months_and_contractions_name_no_one() -> None:
    found = names(
        "A letter to Sir Geoffrey Nice: Don’t get upset. Am Dienstag sprach Salih Hudayar im"
        " Juli in Washington; I'm sure, dit Mardi.",
        frozenset(),
        sentence_starts=True,
    )
    assert found == {"geoff", "nice", "salih", "huday", "washi"}


def _filed(tmp_path: Path, stories: list[tuple[str, str, date, float]]) -> list[int]:
    """File stories (title, lead, day, angle of a model-sized vector) through the event stage
    on a real SQLite file; the event of each."""
    from casewatch import embed
    from casewatch.event_filing import EventFiler
    from storage import events as stored
    from storage.db import open_store

    db = open_store(tmp_path / "events.db")
    filer = EventFiler(db, stopwords=CASE_WORDS, settings=SETTINGS)
    found = []
    for title, lead, day, angle in stories:
        when = datetime.combine(day, time(12), tzinfo=UTC)
        cur = db.execute(
            "INSERT INTO stories (title, kind, relevant, first_seen_at, last_seen_at,"
            " published_at, summary) VALUES (?, 'news', 1, ?, ?, ?, ?)",
            (title, when.isoformat(), when.isoformat(), when.isoformat(), lead),
        )
        pending = stored.Pending(
            story_id=int(cur.lastrowid or 0),
            title=title,
            summary=lead,
            day=day,
            first_poll=False,
            backfill=False,
            published=when,
            queued=when,
        )
        vector = np.zeros(embed.DIM, dtype=np.float32)
        vector[:2] = _vector(angle)
        found.append(filer.assign(pending, vector, now=when).event_id)
    db.conn.close()
    return found


RULED = ("Tribunal rules China committed genocide", "The tribunal in London ruled.")
OP_ED = ("The verdict was genocide", "The London tribunal went where others would not.")


def test_the_event_stage_files_a_late_op_ed_in_the_event_it_tells_of(tmp_path: Path) -> None:
    ruling, late = _filed(
        tmp_path, [(*RULED, date(2021, 12, 9), 0), (*OP_ED, date(2021, 12, 27), 0.3)]
    )
    assert late == ruling


def test_a_late_op_ed_starts_an_event_when_its_window_holds_another(tmp_path: Path) -> None:
    """Only a report with no event at all in its window looks further back: in a busy week
    an op-ed weeks late alerts on its own rather than risk joining an old development."""
    other = ("Parliament votes on a motion", "Members of parliament voted.")
    ruling, _, late = _filed(
        tmp_path,
        [
            (*RULED, date(2021, 12, 9), 0),
            (*other, date(2021, 12, 24), 1.5),
            (*OP_ED, date(2021, 12, 27), 0.3),
        ],
    )
    assert late != ruling
