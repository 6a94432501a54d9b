"""The relevance engine's semantics, on a small rule set written for these tests."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from casewatch.relevance import RelevanceSettings, RuleEngine, SourceRelevance
from casewatch.validation import validate


def settings(**overrides: Any) -> RelevanceSettings:
    base: dict[str, Any] = {
        "threshold": 2,
        "groups": {
            "people": ["Uyghur", "Uighur*", "Ouïghour*", "维吾尔"],
            "forum": ["International Criminal Court", "ICC", "Cour pénale internationale"],
            "names": ["Geoffrey Nice", "Rome Statute art*"],
            "place": ["Xinjiang", "新疆"],
            "sport": ["cricket", "T20"],
            "trade": ["cotton"],
            "situations": ["Ukraine"],
        },
        "rules": [
            {"name": "case-forum", "all": ["people", "forum"], "score": 2},
            {"name": "place-only", "any": ["place"], "none": ["forum"], "score": 1},
            {"name": "names", "any": ["names"], "score": 3},
            {"name": "elsewhere", "any": ["situations"], "score": -1},
        ],
        "drop": [{"name": "cricket", "any": ["sport"], "unless": ["people"]}],
        "demote": [{"name": "trade", "any": ["trade"], "unless": ["names"]}],
        "court_groups": ["forum"],
    }
    base.update(overrides)
    return validate(RelevanceSettings, base)


def overrides(**fields: Any) -> SourceRelevance:
    """A source's `rules:` as feeds.yaml gives them, checked."""
    return validate(SourceRelevance, fields)


@pytest.fixture(scope="module")
def engine() -> RuleEngine:
    return RuleEngine(settings())


# --- matching ---------------------------------------------------------------------------------

MATCHING = [
    # (text, a "group:term" that must be found, or None when it must not be)
    ("Uyghur activists gather", "people:Uyghur"),
    ("Uyghurs gather", None),  # whole word: "Uyghur" is not "Uyghurs" (list it, or use a prefix)
    ("the Uyghur's lawyer", "people:Uyghur"),  # possessive: the apostrophe ends the word
    ("Uighurs gather", "people:Uighur*"),  # prefix
    ("Uighur gather", "people:Uighur*"),  # a prefix matches the bare word too
    ("NonUighur", None),  # a prefix still starts at a word boundary
    ("OUÏGHOURS", "people:Ouïghour*"),  # case and diacritics folded on the text side
    ("ouighours", "people:Ouïghour*"),  # ... and on the term side
    ("Xīnjiāng", "place:Xinjiang"),  # accents the term does not have
    ("a nice day in Nice", None),  # "Geoffrey Nice" never matches bare "nice"/"Nice"
    ("Sir Geoffrey Nice KC", "names:Geoffrey Nice"),
    ("GEOFFREY\n\nNICE", "names:Geoffrey Nice"),  # a phrase across a line break
    ("International-Criminal  Court", "forum:International Criminal Court"),  # punctuation
    ("the International Criminal\nCourt's ruling", "forum:International Criminal Court"),
    ("International Criminal Justice Court", None),  # phrase words must be adjacent
    ("Criminal Court, International", None),  # ... and in order
    ("la Cour penale internationale", "forum:Cour pénale internationale"),
    ("Rome Statute article 15", "names:Rome Statute art*"),  # a prefix as a later word
    ("icc", "forum:ICC"),
    ("ICCPR", None),
    ("新疆维吾尔自治区", "people:维吾尔"),  # CJK: substring, no word boundaries
    ("新疆维吾尔自治区", "place:新疆"),
    ("维族", None),
    ("“Uyghur” — ICC ☃", "people:Uyghur"),  # non-ASCII text takes the other tokenizer
    ("Uyghur_ICC", "forum:ICC"),  # an underscore separates words
]


@pytest.mark.parametrize(("text", "term"), MATCHING)
def test_term_matching(engine: RuleEngine, text: str, term: str | None) -> None:
    found = engine.judge(text, "").terms
    if term is None:
        assert not found, f"{text!r} should match nothing, found {found}"
    else:
        assert term in found, f"{text!r} should match {term}, found {found}"


@pytest.mark.parametrize(
    "text",
    [
        "Uyghur lawyers at the International Criminal Court",
        "Geoffrey Nice, T20 and cotton in Xinjiang; Ukraine",
        "Uighurs_and ICC-2020, Rome Statute articles",
    ],
)
def test_ascii_and_unicode_texts_match_alike(engine: RuleEngine, text: str) -> None:
    # ASCII texts are split by a fast path; any other character sends the text down the
    # general tokenizer. Both must find the same terms.
    assert engine.judge(text, "").terms == engine.judge(text + " é", "").terms


def test_a_phrase_does_not_run_from_title_into_text(engine: RuleEngine) -> None:
    assert engine.judge("Sir Geoffrey", "Nice remarks").terms == ()
    assert engine.judge("… 新", "疆 …").terms == ()
    assert engine.judge("Sir Geoffrey Nice", "").terms == ("names:Geoffrey Nice",)
    assert engine.judge("", "Sir Geoffrey Nice").terms == ("names:Geoffrey Nice",)


def test_terms_are_reported_once_in_config_order(engine: RuleEngine) -> None:
    match = engine.judge("ICC, Uyghur, ICC", "Uyghur and the International Criminal Court")
    assert match.terms == ("people:Uyghur", "forum:International Criminal Court", "forum:ICC")


# --- rules, scores, verdicts ---------------------------------------------------------------------

VERDICTS = [
    # (title, verdict, rules fired, score)
    ("Uyghur groups petition the ICC", "relevant", ("case-forum",), 2),  # all: both groups
    ("Uyghur groups petition", "dropped", (), 0),  # all: one group is not enough
    ("Protest in Xinjiang", "context", ("place-only",), 1),  # any
    ("Xinjiang case at the ICC", "dropped", (), 0),  # none: forum blocks place-only
    ("Geoffrey Nice speaks", "relevant", ("names",), 3),
    ("Uyghur groups, the ICC and Ukraine", "context", ("case-forum", "elsewhere"), 1),
    ("ICC and Ukraine", "dropped", ("elsewhere",), -1),  # negative total
    ("ICC confirms T20 schedule", "dropped", ("cricket",), 0),  # drop veto
    ("Uyghur cricket team at the ICC", "relevant", ("case-forum",), 2),  # veto stands down
    ("Geoffrey Nice on T20 cricket", "dropped", ("names", "cricket"), 3),  # a veto beats score
    ("Uyghur cotton and the ICC", "context", ("case-forum", "trade"), 2),  # demoted
    ("Geoffrey Nice on Uyghur cotton", "relevant", ("names",), 3),  # demote stands down
    ("Xinjiang cotton", "context", ("place-only",), 1),  # demote only caps relevant items
]


@pytest.mark.parametrize(("title", "verdict", "rules", "score"), VERDICTS)
def test_rules_decide_the_verdict(
    engine: RuleEngine, title: str, verdict: str, rules: tuple[str, ...], score: float
) -> None:
    match = engine.judge(title, "")
    assert (match.verdict, match.rules, match.score) == (verdict, rules, score), match.reason


def test_score_equal_to_threshold_is_relevant() -> None:
    engine = RuleEngine(settings(threshold=3))
    assert engine.judge("Geoffrey Nice", "").verdict == "relevant"
    assert engine.judge("Uyghur at the ICC", "").verdict == "context"


def test_reasons_explain_the_verdict(engine: RuleEngine) -> None:
    assert engine.judge("Uyghur lawyers", "at the International Criminal Court").reason == (
        "kept: case-forum (people:Uyghur + forum:International Criminal Court), score 2 >= 2; "
        "court: forum:International Criminal Court"
    )
    assert engine.judge("T20: ICC final", "").reason == "dropped by cricket (sport:T20)"
    assert (
        engine.judge("Xinjiang", "").reason == "context: place-only (place:Xinjiang), score 1 < 2"
    )
    assert engine.judge("Uyghur cotton and the ICC", "").reason == (
        "context: held back by trade (trade:cotton); "
        "case-forum (people:Uyghur + forum:ICC), score 2 >= 2"
    )
    assert engine.judge("Geoffrey Nice at the ICC with Uyghur groups", "").reason == (
        "kept: case-forum (people:Uyghur + forum:ICC) +2, names (names:Geoffrey Nice) +3, "
        "score 5 >= 2; court: forum:ICC"
    )
    assert engine.judge("ICC and Ukraine", "").reason == (
        "dropped: elsewhere (situations:Ukraine) -1, score -1 <= 0"
    )
    assert engine.judge("The ICC", "").reason == (
        "dropped: no rule fired (found forum:ICC), score 0 < 2"
    )
    assert engine.judge("Weather", "").reason == "dropped: no case term found, score 0 < 2"


def test_court_flag_needs_a_relevant_item_and_court_vocabulary_or_kind(
    engine: RuleEngine,
) -> None:
    assert engine.judge("Uyghur petition at the ICC", "").court is True
    assert engine.judge("Geoffrey Nice speaks", "").court is False
    assert engine.judge("Geoffrey Nice speaks", "", kind="court").court is True
    assert engine.judge("Protest in Xinjiang", "", kind="court").court is False  # context
    assert engine.judge("Uyghur cotton and the ICC", "").court is False  # demoted


@pytest.fixture(scope="module")
def acts() -> RuleEngine:
    groups = settings().groups | {
        "act": ["filed", "rules", "ruling", "decision", "hearing"],
        "genre": ["Opinion", "analysis", "interview", "votes", "welcome*", "years after"],
    }
    return RuleEngine(settings(groups=groups, court_acts=["act"], court_unless=["genre"]))


COURT_LABELS = [
    # (title, text, source kind, court?, the reason's end)
    (
        "Uyghur groups filed a complaint at the ICC",
        "",
        "news",
        True,
        "court: act:filed + forum:ICC",
    ),
    # an act in the lead's first sentence counts when the title names the forum
    ("Uyghur case at the ICC", "The Court rules today. More.", "news", True, "court: act:rules"),
    # ... but not further down the text, where features recall old decisions
    ("Uyghur case at the ICC", "Exiles wait. The 2020 decision stands.", "news", False, "lead"),
    # ... nor when the title does not name the forum
    ("Uyghur exiles wait", "The ICC decision stands. More.", "news", False, "lead"),
    # no forum, no party: a ruling of nobody
    ("Geoffrey Nice ruling", "", "news", False, "news: no forum or party named"),
    # a court's own source is the forum
    ("Geoffrey Nice hearing", "", "court", True, "court: act:hearing + a court's own source"),
    # ... and still needs an act: a court's feed also publishes statements and reports
    ("Geoffrey Nice speaks", "", "court", False, "no act of a proceeding"),
    # genres in the title make it news, whatever act it is about
    ("Opinion: the ICC ruling failed Uyghur exiles", "", "news", False, "(genre:Opinion)"),
    ("Uyghur groups welcome ICC decision", "", "news", False, "(genre:welcome*)"),
    (
        "Five years after the ICC decision, Uyghur exiles wait",
        "",
        "news",
        False,
        "genre:years after",
    ),
    ("UN council votes on Uyghur ICC ruling", "", "court", False, "(genre:votes)"),
]


@pytest.mark.parametrize(("title", "text", "kind", "court", "why"), COURT_LABELS)
def test_court_label_needs_an_act_and_a_forum_and_no_news_genre_in_the_title(
    acts: RuleEngine, title: str, text: str, kind: str, court: bool, why: str
) -> None:
    match = acts.judge(title, text, kind=kind)
    assert match.verdict == "relevant", match.reason
    assert match.court is court, match.reason
    assert why in match.reason.rsplit("; ", 1)[-1], match.reason


def test_court_label_of_an_item_kept_for_another_reason(acts: RuleEngine) -> None:
    assert acts.court_label("ICC hearing", "", kind="news") == (
        True,
        "court: act:hearing + forum:ICC",
    )
    assert acts.court_label("Weather", "", kind="court")[0] is False


# --- per-source overrides ------------------------------------------------------------------------


def test_source_adds_terms_to_an_existing_group(engine: RuleEngine) -> None:
    source = overrides(groups={"people": ["Uygur"]})
    assert engine.judge("Uygur groups at the ICC", "").verdict == "dropped"
    match = engine.judge("Uygur groups at the ICC", "", source=source)
    assert (match.verdict, match.terms) == ("relevant", ("people:Uygur", "forum:ICC"))


def test_source_adds_a_group_and_a_rule(engine: RuleEngine) -> None:
    source = overrides(
        groups={"china": ["China"]}, rules=[{"name": "china-here", "any": ["china"], "score": 2}]
    )
    assert engine.judge("China responds", "", source=source).rules == ("china-here",)
    assert engine.judge("China responds", "").verdict == "dropped"  # the case rules are untouched


def test_source_threshold_drop_and_disable(engine: RuleEngine) -> None:
    lower = overrides(threshold=1)
    assert engine.judge("Protest in Xinjiang", "", source=lower).verdict == "relevant"
    no_cotton = overrides(drop=[{"name": "no-cotton", "any": ["trade"]}])
    assert engine.judge("Xinjiang cotton", "", source=no_cotton).reason == (
        "dropped by no-cotton (trade:cotton)"
    )
    cricket_ok = overrides(disable=["cricket"], demote=[{"name": "t", "any": ["sport"]}])
    match = engine.judge("Geoffrey Nice on T20 cricket", "", source=cricket_ok)
    assert (match.verdict, match.rules) == ("context", ("names", "t"))


def test_source_overrides_are_compiled_once_per_source(engine: RuleEngine) -> None:
    source = overrides(groups={"people": ["Uygur"]})
    engine.judge("Uygur", "", source=source)
    compiled = engine._compiled_for(source)
    engine.judge("Uygur ICC", "", source=source)
    assert engine._compiled_for(source) is compiled


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            overrides(rules=[{"name": "mine", "any": ["nowhere"]}]),
            "rule 'mine' names unknown group 'nowhere'",
        ),
        (
            overrides(disable=["no-such-rule"]),
            "`disable` names unknown rule(s) 'no-such-rule'",
        ),
        (
            overrides(rules=[{"name": "names", "any": ["people"]}]),
            "rule name 'names' is used twice",
        ),
    ],
)
def test_source_overrides_that_do_not_fit_are_refused(
    engine: RuleEngine, source: SourceRelevance, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        engine.check_source(source)
    with pytest.raises(ValueError):
        engine.judge("Uyghur", "", source=source)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "loc", "message"),
    [
        (
            {"rules": [{"name": "case-forum", "all": ["people", "forums"]}]},
            ("rules",),
            "rules[0] rule 'case-forum' names unknown group 'forums' in `all`",
        ),
        (
            {"drop": [{"name": "cricket", "any": ["sport"], "unless": ["peeple"]}]},
            ("drop",),
            "drop[0] rule 'cricket' names unknown group 'peeple' in `unless`",
        ),
        (
            {"drop": [{"name": "names", "any": ["sport"]}]},
            (),
            "rule name 'names' is used twice (rules and drop)",
        ),
        ({"rules": [{"name": "empty", "none": ["people"]}]}, ("rules", 0), "needs `all` or `any`"),
        (
            {"rules": [{"name": "typo", "any": ["people"], "socre": 2}]},
            ("rules", 0, "socre"),
            "Unexpected keyword argument",
        ),
        ({"court_groups": ["courts"]}, ("court_groups",), "unknown group 'courts'"),
        ({"court_acts": ["acts"]}, ("court_acts",), "court_acts names unknown group 'acts'"),
        ({"court_unless": ["op-ed"]}, ("court_unless",), "unknown group 'op-ed'"),
        ({"threshold": 0}, ("threshold",), "greater than 0"),
        ({"groups": {"people": []}}, ("groups",), "group 'people' has no terms"),
        ({"groups": {"bad name": ["x"]}}, ("groups",), "group name 'bad name'"),
        ({"groups": {"g": ["*"]}}, ("groups",), "'*' must follow letters"),
        ({"groups": {"g": ["Uy*ghur"]}}, ("groups",), "'*' may only end a word"),
        ({"groups": {"g": ["ab*"]}}, ("groups",), "at least 3 letters"),
        ({"groups": {"g": ["  "]}}, ("groups",), "a term is empty"),
        ({"groups": {"g": ["--"]}}, ("groups",), "no letters or digits"),
        ({"groups": {"g": ["新疆*"]}}, ("groups",), "already match anywhere"),
        ({"groups": {"g": ["Ouïghour", "OUIGHOUR"]}}, ("groups",), "the same term twice"),
    ],
)
def test_invalid_settings_are_refused_with_where_and_why(
    overrides: dict[str, Any], loc: tuple[str | int, ...], message: str
) -> None:
    if "groups" in overrides:
        overrides = {"rules": [], "drop": [], "demote": [], "court_groups": [], **overrides}
    with pytest.raises(ValidationError) as info:
        settings(**overrides)
    errors = info.value.errors()
    assert any(e["loc"] == loc and message in e["msg"] for e in errors), errors


def test_defaults_keep_nothing() -> None:
    engine = RuleEngine(RelevanceSettings())
    assert engine.judge("Uyghur groups at the ICC", "").verdict == "dropped"
