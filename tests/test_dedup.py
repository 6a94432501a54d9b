"""Identity keys, canonical URLs, title keys and MinHash near-duplicates: the dedup decisions."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from casewatch.dedup import (
    Keying,
    MinHasher,
    canonical_url,
    document_identities,
    entry_identity,
    is_near_duplicate,
    is_opaque_link,
    jaccard_estimate,
    near_duplicate_text,
    normalise_title,
    split_publisher,
    story_keys,
    story_match_keys,
    title_key,
)
from casewatch.model import Entry

CASE_WORDS = frozenset(
    {"uyghur", "uighur", "icc", "china", "chinese", "xinjiang", "international criminal court"}
)
JULY_11 = datetime(2024, 7, 11, 9, 30, tzinfo=UTC)


def _exact_jaccard(hasher: MinHasher, a: str, b: str) -> float:
    sa, sb = hasher.shingles(a), hasher.shingles(b)
    return len(sa & sb) / len(sa | sb)


# --------------------------------------------------------------------------------------------
# canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme, host case, www, default port, fragment, trailing slash
        ("HTTP://WWW.Example.COM:80/News/Story/#comments", "https://example.com/News/Story"),
        ("https://example.com:443/news/story", "https://example.com/news/story"),
        ("https://example.com:8443/news/story", "https://example.com:8443/news/story"),
        ("  https://example.com/news/story/  ", "https://example.com/news/story"),
        ("https://example.com", "https://example.com/"),
        # tracking parameters, whatever their case; the rest sorted and kept
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x&id=7",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/a?fbclid=abc&gclid=def&b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://theguardian.com/x?CMP=share_btn_tw", "https://theguardian.com/x"),
        ("https://bbc.co.uk/news/1?at_medium=RSS&at_campaign=KARANGA", "https://bbc.co.uk/news/1"),
        (
            "https://nytimes.com/2021/x.html?smid=tw-share&mc_cid=1&mc_eid=2&ocid=3&cmpid=4",
            "https://nytimes.com/2021/x.html",
        ),
        ("https://e.com/a?ref=rss&ref_src=twsrc&_ga=2.1&igshid=9&spm=a.b", "https://e.com/a"),
        ("https://lemonde.fr/a?xtor=RSS-3208&p=2", "https://lemonde.fr/a?p=2"),
        # escapes normalised, a bare query key stays bare, a "#!" route is the page itself
        (
            "https://e.com/caf%c3%a9/%7euser?q=a%20b&print",
            "https://e.com/caf%C3%A9/~user?print&q=a%20b",
        ),
        ("https://e.com/#!/article/3", "https://e.com/#!/article/3"),
        # AMP variants fold to the article
        (
            "https://www.bbc.co.uk/news/world-asia-china-59595952.amp",
            "https://bbc.co.uk/news/world-asia-china-59595952",
        ),
        (
            "https://amp.theguardian.com/world/2021/dec/09/x",
            "https://theguardian.com/world/2021/dec/09/x",
        ),
        (
            "https://example.com/2021/12/uyghur-tribunal/amp/",
            "https://example.com/2021/12/uyghur-tribunal",
        ),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        (
            "https://washingtonpost.com/world/x/?outputType=amp",
            "https://washingtonpost.com/world/x",
        ),
        ("https://example.com/news/story?amp=1", "https://example.com/news/story"),
        (
            "https://www.google.com/amp/s/www.example.com/news/story/amp",
            "https://example.com/news/story",
        ),
        (
            "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/news/story?id=4",
            "https://example.com/news/story?id=4",
        ),
        (
            "https://www.google.co.uk/amp/s/www.example.com/news/story",
            "https://example.com/news/story",
        ),
        ("http://[2001:db8::1]:8080/a/", "https://[2001:db8::1]:8080/a"),
        # a path that only happens to be "amp" is not folded away
        ("https://example.com/amp", "https://example.com/amp"),
        # a Bing News click-through is the article it points to
        (
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=AB12&url=https%3a%2f%2f"
            "www.reuters.com%2fworld%2fchina%2ficc-uyghur%3futm_source%3drss&c=55&mkt=en-us",
            "https://reuters.com/world/china/icc-uyghur",
        ),
        # only Bing itself is unwrapped
        (
            "https://notbing.com/news/apiclick.aspx?url=https%3a%2f%2fe.com%2fa",
            "https://notbing.com/news/apiclick.aspx?url=https%3A%2F%2Fe.com%2Fa",
        ),
        # opaque and non-web links come back as they are
        (
            "https://news.google.com/rss/articles/CBMiWmh0dHBzOi8vd3d3?oc=5",
            "https://news.google.com/rss/articles/CBMiWmh0dHBzOi8vd3d3?oc=5",
        ),
        ("/news/relative-link", "/news/relative-link"),
        ("tag:example.com,2024:entry-7", "tag:example.com,2024:entry-7"),
        ("http://[::1/broken", "http://[::1/broken"),
    ],
)
def test_canonical_url_folds_variants_of_one_address(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("http://www.Example.com/a/b/?z=1&utm_source=x&a=%7e#top")
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("url", "opaque"),
    [
        ("https://news.google.com/rss/articles/CBMiWmh0dHBz?oc=5", True),
        ("https://news.google.com/articles/CBMiWmh0dHBz", True),
        ("https://news.google.com/rss/search?q=uyghur+icc", False),
        ("http://www.bing.com/news/apiclick.aspx?ref=FexRss&tid=AB12", True),
        ("http://www.bing.com/news/apiclick.aspx?url=https%3a%2f%2fexample.com%2fa", False),
        ("https://www.reuters.com/world/china/icc-uyghur", False),
        ("https://notbing.com/news/apiclick.aspx?tid=1", False),
        ("not a url at all", False),
    ],
)
def test_is_opaque_link_flags_search_engine_redirects(url: str, opaque: bool) -> None:
    assert is_opaque_link(url) is opaque


# --------------------------------------------------------------------------------------------
# split_publisher, normalise_title, title_key


@pytest.mark.parametrize(
    ("title", "known", "expected"),
    [
        (
            "ICC urged to reopen Uyghur case - Reuters",
            None,
            ("ICC urged to reopen Uyghur case", "Reuters"),
        ),
        ("China's camps | The Guardian", None, ("China's camps", "The Guardian")),
        ("Tribunal rules on genocide — BBC News", None, ("Tribunal rules on genocide", "BBC News")),
        ("Tribunal rules – Al Jazeera English", None, ("Tribunal rules", "Al Jazeera English")),
        ("Court hears case - Bitter Winter", None, ("Court hears case", "Bitter Winter")),
        ("Court hears case - dw.com", None, ("Court hears case", "dw.com")),
        ("Court hears case - Voice of America", None, ("Court hears case", "Voice of America")),
        # the known publisher wins even when it is long or reads oddly
        (
            "New filing - Uyghur Human Rights Project",
            "Uyghur Human Rights Project",
            ("New filing", "Uyghur Human Rights Project"),
        ),
        ("Argentina case - reuters.com", "Reuters", ("Argentina case", "reuters.com")),
        # only the last segment is an outlet
        ("Uyghur tribunal - day two - Reuters", None, ("Uyghur tribunal - day two", "Reuters")),
        # headline segments that are not outlets stay
        (
            "Uyghur tribunal - what happens next?",
            None,
            ("Uyghur tribunal - what happens next?", None),
        ),
        (
            "Uyghur tribunal - What Happens Next",
            None,
            ("Uyghur tribunal - What Happens Next", None),
        ),
        ("Deportations - in pictures", None, ("Deportations - in pictures", None)),
        ("Prosecutor's report - 2020", None, ("Prosecutor's report - 2020", None)),
        ("Verdict - Analysis", None, ("Verdict - Analysis", None)),
        (
            "Uyghurs - A Long Road To The Hague Through Many Capitals Of Europe",
            None,
            ("Uyghurs - A Long Road To The Hague Through Many Capitals Of Europe", None),
        ),
        ("Xi-led talks stall", None, ("Xi-led talks stall", None)),
        ("- Reuters", None, ("- Reuters", None)),
        # scripts without case
        (
            "维吾尔人要求国际刑事法院调查 - 自由亚洲电台",
            None,
            ("维吾尔人要求国际刑事法院调查", "自由亚洲电台"),
        ),
        ("维吾尔人 - 法院会调查吗，何时？", None, ("维吾尔人 - 法院会调查吗，何时？", None)),
    ],
)
def test_split_publisher_removes_only_an_outlet_suffix(
    title: str, known: str | None, expected: tuple[str, str | None]
) -> None:
    assert split_publisher(title, known) == expected


@pytest.mark.parametrize(
    ("title", "stopwords", "expected"),
    [
        ("Ouïghours : la Cour saisie", frozenset(), "ouighours la cour saisie"),
        ("“Genocide” ruling: what’s next?", frozenset(), "genocide ruling what next"),
        ("China's Uyghurs' plea - Reuters", frozenset(), "china uyghurs plea"),
        ("ICC won't probe China's Uyghur camps", CASE_WORDS, "wont probe camps"),
        ("International Criminal Court hears Uighurs", CASE_WORDS, "hears"),
        ("  Tribunal\n\tverdict  ", frozenset(), "tribunal verdict"),
        ("国际刑事法院调查维吾尔", frozenset({"维吾尔"}), "国际刑事法院调查"),
    ],
)
def test_normalise_title_keeps_only_words_that_tell_stories_apart(
    title: str, stopwords: frozenset[str], expected: str
) -> None:
    assert normalise_title(title, stopwords=stopwords) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Argentine court lets Uyghur genocide case proceed - Reuters",
            "Argentine Court Lets Uyghur Genocide Case Proceed",
        ),
        (
            "“Argentine court lets Uyghur genocide case proceed”",
            "Argentine court lets the Uyghur genocide case proceed | AP News",
        ),
        ("Thailand deports 40 Uighur men to China", "Thailand deports 40 Uyghur men to China"),
    ],
)
def test_title_key_is_shared_by_versions_of_one_headline(a: str, b: str) -> None:
    key = title_key(a, stopwords=CASE_WORDS)
    assert key is not None
    assert key == title_key(b, stopwords=CASE_WORDS)


def test_title_key_differs_between_stories() -> None:
    one = title_key("Argentine court lets Uyghur genocide case proceed", stopwords=CASE_WORDS)
    two = title_key("Argentine prosecutor moves to stay Uyghur genocide case", stopwords=CASE_WORDS)
    assert one is not None and two is not None and one != two


@pytest.mark.parametrize(
    "title",
    [
        "Uyghur Tribunal verdict",  # 2 words left once the case vocabulary is gone
        "ICC and China: the Uyghur question",
        "ICC urged to probe Uyghur abuses - Reuters",  # urged, probe, abuses
        "国际法院调查",  # 6 characters are about 3 words
        "",
    ],
)
def test_title_key_refuses_headlines_too_short_to_identify_a_story(title: str) -> None:
    assert title_key(title, stopwords=CASE_WORDS) is None


def test_title_key_of_a_chinese_headline_counts_characters() -> None:
    key = title_key("阿根廷法院裁定维吾尔种族灭绝案可以继续审理", stopwords=CASE_WORDS)
    assert key is not None
    assert key == title_key("阿根廷法院裁定维吾尔种族灭绝案可以继续审理 - 自由亚洲电台")


# --------------------------------------------------------------------------------------------
# entry_identity


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (Entry(title="A", guid=" urn:icc:pr-1602 ", link="https://e.com/a"), "g:urn:icc:pr-1602"),
        (
            Entry(title="A", link="https://icc-cpi.int/news/x#part-2"),
            "l:https://icc-cpi.int/news/x#part-2",
        ),
        (Entry(title="A", guid="   ", link="https://e.com/a"), "l:https://e.com/a"),
    ],
)
def test_identity_prefers_guid_then_link(entry: Entry, expected: str) -> None:
    assert entry_identity(entry) == expected


def test_long_guids_and_links_are_hashed_to_short_stable_keys() -> None:
    long_link = "https://example.com/" + "very-long-slug-" * 20
    key = entry_identity(Entry(title="A", link=long_link))
    assert key.startswith("l:") and len(key) <= 24
    assert key == entry_identity(Entry(title="B", link=long_link))
    assert key != entry_identity(Entry(title="A", link=long_link + "2"))
    # a guid that already looks like a repeat counter is hashed so it cannot collide with one
    assert entry_identity(Entry(title="A", guid="item#2")) != "g:item#2"


def test_identity_without_guid_or_link_hashes_title_and_summary() -> None:
    entry = Entry(title="Statement on deportations", summary="The Office received a filing.")
    key = entry_identity(entry)
    assert key.startswith("h:")
    same_text = Entry(title="Statement on deportations ", summary="The Office received a filing")
    assert entry_identity(same_text) == key
    other = Entry(title="Statement on deportations", summary="The Office closed the file.")
    assert entry_identity(other) != key


def test_repeated_guids_are_told_apart_by_content_not_by_position() -> None:
    old = [
        Entry(title="Hearing set for March", guid="dup", link="https://e.com/1"),
        Entry(title="Other news", guid="unique", link="https://e.com/2"),
        Entry(title="Filing received", guid="dup", link="https://e.com/3"),
    ]
    first = document_identities(old)
    assert first[0] is not None and first[2] is not None
    assert len(first[0]) == 1 and first[0][0].startswith("g:dup~") and first[0] != first[2]
    assert first[1] is not None and first[1][0] == "g:unique"
    # A new entry under the same guid at the top: the old ones keep their keys, it gets its own.
    new = Entry(title="Decision published", guid="dup", link="https://e.com/4")
    second = document_identities([new, *old])
    assert second[1:] == first
    assert second[0] is not None and second[0][0] not in {k for ks in first if ks for k in ks}
    assert document_identities([*old, new])[:3] == first  # nor does the order matter


def test_an_entry_whose_guid_is_later_repeated_is_still_recognised() -> None:
    alone = Entry(title="Hearing set for March", guid="site", link="https://e.com/1")
    (keys,) = document_identities([alone])
    assert keys is not None and keys[0] == "g:site"
    later = document_identities([Entry(title="New filing", guid="site"), alone])
    assert later[1] is not None and set(later[1]) & set(keys)
    assert later[0] is not None and not set(later[0]) & set(keys)


def test_an_entry_with_nothing_to_identify_it_is_left_out_not_the_document() -> None:
    empty, fine = document_identities([Entry(title=" ", summary=""), Entry(title="A", guid="a")])
    assert empty is None and fine is not None and fine[0] == "g:a"
    assert document_identities([Entry(title="")], source_format="search") == [None]


def test_content_keyed_entries_repeated_in_a_document_are_one_entry() -> None:
    same = Entry(title="Statement on deportations", summary="The Office received a filing.")
    first, second = document_identities([same, same])
    assert first == second and first is not None and first[0].startswith("h:")


def test_identity_refuses_an_entry_with_nothing_to_identify() -> None:
    with pytest.raises(ValueError, match="no guid, no link, no title and no text"):
        entry_identity(Entry(title="  ", summary=""))


def test_identity_refuses_an_unknown_source_format() -> None:
    with pytest.raises(ValueError, match="unknown source_format 'atom'"):
        entry_identity(Entry(title="A", guid="g"), source_format="atom")


GOOGLE_ITEM = Entry(
    title="ICC urged to reopen Uyghur deportation case - Reuters",
    link="https://news.google.com/rss/articles/CBMiAAAA?oc=5",
    guid="CBMiAAAA",
    publisher="Reuters",
    published=JULY_11,
)


@pytest.mark.parametrize(
    "reissued",
    [
        # new id and redirect link, later in the same day
        Entry(
            title="ICC urged to reopen Uyghur deportation case - Reuters",
            link="https://news.google.com/rss/articles/CBMiBBBB?oc=5",
            guid="CBMiBBBB",
            publisher="Reuters",
            published=JULY_11 + timedelta(hours=7),
        ),
        # the suffix gone, the outlet only in <source>
        Entry(
            title="ICC urged to reopen Uyghur deportation case",
            link="https://news.google.com/rss/articles/CBMiCCCC",
            guid="CBMiCCCC",
            publisher="Reuters",
            published=JULY_11,
        ),
        # Bing: another suffix style, no <source>, a local time on the same UTC day
        Entry(
            title="ICC urged to reopen Uyghur deportation case | Reuters",
            link="http://www.bing.com/news/apiclick.aspx?ref=FexRss&tid=XYZ",
            published=datetime(2024, 7, 11, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_search_items_reissued_with_new_ids_keep_their_identity(reissued: Entry) -> None:
    original = entry_identity(GOOGLE_ITEM, source_format="search")
    assert original.startswith("s:")
    assert entry_identity(reissued, source_format="search") == original


@pytest.mark.parametrize(
    "different",
    [
        Entry(title=GOOGLE_ITEM.title, publisher="Reuters", published=JULY_11 + timedelta(days=1)),
        Entry(
            title="ICC urged to reopen Uyghur deportation case",
            publisher="AP News",
            published=JULY_11,
        ),
        Entry(title="ICC asked to reopen Uyghur deportation case - Reuters", published=JULY_11),
    ],
)
def test_search_items_differ_by_headline_outlet_or_day(different: Entry) -> None:
    assert entry_identity(different, source_format="search") != entry_identity(
        GOOGLE_ITEM, source_format="search"
    )


# --------------------------------------------------------------------------------------------
# story_match_keys


ORIGINAL = Entry(
    title="Argentine court lets Uyghur genocide case proceed against officials",
    link="https://www.example-news.com/world/argentina-uyghur-case/",
    guid="urn:example:1",
    published=datetime(2025, 6, 18, 12, tzinfo=UTC),
)


def test_story_keys_survive_a_new_guid_a_new_date_and_tracking_parameters() -> None:
    reissued = Entry(
        title="Argentine court lets Uyghur genocide case proceed against officials - Example News",
        link="http://example-news.com/world/argentina-uyghur-case?utm_source=rss&fbclid=1#top",
        guid="urn:example:2",
        publisher="Example News",
        published=datetime(2025, 6, 19, 8, tzinfo=UTC),
    )
    keys = story_match_keys(ORIGINAL, stopwords=CASE_WORDS)
    assert [k[:2] for k in keys] == ["u:", "t:"]
    assert story_match_keys(reissued, stopwords=CASE_WORDS) == keys
    # identity is per source and does change: the story layer is what joins them
    assert entry_identity(reissued) != entry_identity(ORIGINAL)


def test_story_keys_skip_opaque_links_and_short_titles() -> None:
    assert [k[:2] for k in story_match_keys(GOOGLE_ITEM, stopwords=CASE_WORDS)] == ["t:"]
    google = Entry(title=ORIGINAL.title + " - Reuters", link=GOOGLE_ITEM.link, publisher="Reuters")
    assert (
        story_match_keys(google, stopwords=CASE_WORDS)
        == story_match_keys(ORIGINAL, stopwords=CASE_WORDS)[1:]
    )
    short = Entry(title="Uyghur Tribunal verdict", link="https://e.com/news/verdict")
    assert [k[:2] for k in story_match_keys(short, stopwords=CASE_WORDS)] == ["u:"]


@pytest.mark.parametrize(
    ("link", "guid", "source_url", "has_url_key"),
    [
        (
            "https://ohchr.org/en/press-releases",
            None,
            "https://www.ohchr.org/en/press-releases/",
            False,
        ),
        ("https://www.example-news.com/", None, None, False),
        ("/world/argentina-uyghur-case", None, None, False),
        (None, "https://www.example-news.com/world/argentina-uyghur-case", None, True),
        (None, "urn:example:1", None, False),
    ],
)
def test_story_url_key_only_for_links_that_name_one_article(
    link: str | None, guid: str | None, source_url: str | None, has_url_key: bool
) -> None:
    entry = Entry(title=ORIGINAL.title, link=link, guid=guid)
    keys = story_match_keys(entry, source_url=source_url)
    assert any(k.startswith("u:") for k in keys) is has_url_key
    if has_url_key:
        assert keys == story_match_keys(ORIGINAL)


# --------------------------------------------------------------------------------------------
# MinHash near-duplicates

WIRE = (
    "Lawyers for exiled Uyghur groups on Tuesday asked the International Criminal Court "
    "prosecutor to reopen an examination of alleged crimes against Uyghurs, citing new evidence "
    "of deportations from Tajikistan, a member state of the court. The filing argues that "
    "forcible transfers from the territory of a state party bring the conduct within the "
    "court's jurisdiction, following the precedent set in the Rohingya case. China, which is not "
    "a member of the court, has denied all allegations of abuse in Xinjiang."
)
OUTLET_A = Entry(
    title="Uyghur groups ask ICC prosecutor to reopen case over Tajikistan deportations - Reuters",
    summary=WIRE,
)
OUTLET_B = Entry(
    title="Exiled Uyghurs file new evidence with International Criminal Court",
    summary=WIRE.replace("on Tuesday asked", "asked")
    .replace("prosecutor to reopen", "prosecutor on Tuesday to reopen")
    .replace("has denied", "denies"),
)
OTHER_STORIES = [
    Entry(
        title="Argentine court lets Uyghur genocide case proceed",
        summary="A federal appeals court in Buenos Aires ruled unanimously that a universal "
        "jurisdiction complaint filed by the World Uyghur Congress against Chinese officials may "
        "go forward, overturning a lower court decision to shelve the case.",
    ),
    Entry(
        title="Thailand deports 40 Uyghur men to China",
        summary="Thai authorities flew forty Uyghur men who had been held in immigration "
        "detention for more than a decade back to China, drawing condemnation from UN experts "
        "and rights groups who said they faced torture.",
    ),
    Entry(
        title="Uyghur Tribunal finds genocide through birth prevention",
        summary="The independent panel chaired by Sir Geoffrey Nice concluded in London that "
        "measures to prevent births amounted to genocide and that crimes against humanity and "
        "torture had been committed.",
    ),
    Entry(
        title="UN rights office says Xinjiang detentions may be crimes against humanity",
        summary="The long delayed assessment by the Office of the High Commissioner found "
        "credible evidence of torture and arbitrary detention and urged governments to act.",
    ),
    Entry(
        title="ICC prosecutor declines to open Uyghur examination",
        summary="In its annual report the Office of the Prosecutor said the territorial "
        "precondition for jurisdiction was not met for most of the alleged crimes but that it "
        "would reconsider on new facts or evidence.",
    ),
]


def test_same_story_from_two_outlets_is_a_near_duplicate_sharing_a_band() -> None:
    hasher = MinHasher()
    text_a = near_duplicate_text(OUTLET_A, stopwords=CASE_WORDS)
    text_b = near_duplicate_text(OUTLET_B, stopwords=CASE_WORDS)
    sig_a, sig_b = hasher.signature(text_a), hasher.signature(text_b)

    assert _exact_jaccard(hasher, text_a, text_b) >= 0.6
    assert hasher.estimate(sig_a, sig_b) >= 0.6
    assert is_near_duplicate(sig_a, sig_b)
    assert set(hasher.band_keys(sig_a)) & set(hasher.band_keys(sig_b))


def test_different_stories_of_the_case_are_not_near_duplicates() -> None:
    hasher = MinHasher()
    stories = [OUTLET_A, *OTHER_STORIES]
    sigs = [hasher.signature(near_duplicate_text(e, stopwords=CASE_WORDS)) for e in stories]
    for i, sig_a in enumerate(sigs):
        for sig_b in sigs[i + 1 :]:
            assert jaccard_estimate(sig_a, sig_b) < 0.2
            assert not is_near_duplicate(sig_a, sig_b)


def _pseudo_words(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(count)]


def test_unrelated_texts_rarely_share_a_band_key() -> None:
    # 300 pairs of 60-word texts over one 400-word vocabulary with Zipf-like frequencies, so the
    # pairs share common words and the odd phrase, as articles on one topic do.
    rng = random.Random(20240711)
    vocabulary = _pseudo_words(rng, 400)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    hasher = MinHasher()

    def text() -> str:
        return " ".join(rng.choices(vocabulary, weights, k=60))

    pairs = 300
    shared_band = near = 0
    for _ in range(pairs):
        a, b = text(), text()
        sig_a, sig_b = hasher.signature(a), hasher.signature(b)
        assert _exact_jaccard(hasher, a, b) < 0.1  # the premise: these texts are unrelated
        shared_band += bool(set(hasher.band_keys(sig_a)) & set(hasher.band_keys(sig_b)))
        near += is_near_duplicate(sig_a, sig_b)
    assert near == 0
    # S-curve at J < 0.1: 1 - (1 - 0.1**4)**16 < 0.2%, so more than 1% means a broken hash.
    assert shared_band / pairs <= 0.01


@pytest.mark.parametrize(
    ("shift", "jaccard", "min_found", "max_found"),
    [
        (15, 45 / 75, 0.80, 1.00),  # S-curve says 89% at 0.6
        (32, 28 / 92, 0.00, 0.20),  # S-curve says 13% at 0.3
    ],
)
def test_band_keys_follow_the_s_curve(
    shift: int, jaccard: float, min_found: float, max_found: float
) -> None:
    # Pairs of 62-word windows of one random word stream, `shift` words apart: with 3-word
    # shingles their exact Jaccard is (60 - shift) / (60 + shift).
    rng = random.Random(shift)
    hasher = MinHasher()
    pairs, found, estimates = 200, 0, []
    for _ in range(pairs):
        stream = _pseudo_words(rng, 62 + shift)
        a, b = " ".join(stream[:62]), " ".join(stream[shift:])
        assert _exact_jaccard(hasher, a, b) == pytest.approx(jaccard, abs=0.02)
        sig_a, sig_b = hasher.signature(a), hasher.signature(b)
        found += bool(set(hasher.band_keys(sig_a)) & set(hasher.band_keys(sig_b)))
        estimates.append(hasher.estimate(sig_a, sig_b))
    assert min_found <= found / pairs <= max_found
    assert hasher.candidate_probability(jaccard) == pytest.approx(
        (min_found + max_found) / 2, abs=0.1
    )
    # the estimate is unbiased: the mean of 200 is within a few standard errors of the truth
    assert sum(estimates) / pairs == pytest.approx(jaccard, abs=0.03)


def test_chinese_texts_are_shingled_by_characters() -> None:
    hasher = MinHasher()
    assert hasher.shingles("维吾尔族") == {"维 吾 尔", "吾 尔 族"}
    assert hasher.shingles("Uyghur tribunal verdict today") == {
        "uyghur tribunal verdict",
        "tribunal verdict today",
    }
    # one long token without spaces is treated the same way
    assert hasher.shingles("abcd") == {"a b c", "b c d"}

    report = (
        "流亡维吾尔团体的律师周二要求国际刑事法院检察官重新审查针对维吾尔人的指控罪行，"
        "并提交了有关塔吉克斯坦遣返的新证据。律师认为，从缔约国领土强制转移的行为属于法院管辖范围。"
    )
    reprint = report.replace("律师周二要求", "律师于周二要求").replace("属于法院", "属于该法院")
    unrelated = (
        "阿根廷联邦刑事上诉法院裁定，针对中国官员的普遍管辖权案件可以继续进行，"
        "原告包括世界维吾尔代表大会和维吾尔人权项目。"
    )
    sig_report, sig_reprint = hasher.signature(report), hasher.signature(reprint)
    sig_unrelated = hasher.signature(unrelated)
    assert is_near_duplicate(sig_report, sig_reprint)
    assert set(hasher.band_keys(sig_report)) & set(hasher.band_keys(sig_reprint))
    assert not is_near_duplicate(sig_report, sig_unrelated)


def test_near_duplicate_text_is_the_title_and_the_first_sixty_words() -> None:
    entry = Entry(
        title="Tribunal hears witnesses - Reuters",
        summary=" ".join(f"word{i}" for i in range(100)),
    )
    text = near_duplicate_text(entry, stopwords=CASE_WORDS)
    assert text.split()[:3] == ["tribunal", "hears", "witnesses"]
    assert text.split()[3:] == [f"word{i}" for i in range(60)]
    chinese = Entry(title="法院", summary="维" * 200)
    assert near_duplicate_text(chinese) == "法院 " + "维" * 120


def test_signatures_are_stable_across_hashers_and_depend_on_the_seed() -> None:
    text = near_duplicate_text(OUTLET_A, stopwords=CASE_WORDS)
    first, second = MinHasher(), MinHasher()
    assert first.signature(text) == second.signature(text)
    assert first.band_keys(first.signature(text)) == second.band_keys(second.signature(text))
    assert len(first.band_keys(first.signature(text))) == 16
    assert MinHasher(seed=2).signature(text) != first.signature(text)


def test_empty_text_matches_nothing_and_gets_no_band_keys() -> None:
    hasher = MinHasher()
    empty = hasher.signature("  ,. ")
    assert hasher.band_keys(empty) == []
    assert hasher.estimate(empty, hasher.signature("")) == 0.0
    assert not is_near_duplicate(empty, empty)


def test_minhasher_rejects_inconsistent_parameters_and_signatures() -> None:
    with pytest.raises(ValueError, match="multiple of bands"):
        MinHasher(num_perm=64, bands=10)
    with pytest.raises(ValueError, match="shingle must be at least 1"):
        MinHasher(shingle=0)
    hasher = MinHasher(num_perm=32, bands=8)
    with pytest.raises(ValueError, match="has 64 values, this hasher makes 32"):
        hasher.band_keys(MinHasher().signature("some words here"))
    with pytest.raises(ValueError, match="differ in length"):
        jaccard_estimate((1, 2), (1, 2, 3))


def test_signature_of_a_sixty_word_text_is_fast() -> None:
    hasher = MinHasher()
    text = near_duplicate_text(OUTLET_A)
    rounds = 300
    start = time.perf_counter()
    for _ in range(rounds):
        hasher.signature(text)
    per_signature = (time.perf_counter() - start) / rounds
    assert per_signature < 0.002  # measured ~50 µs; 2 ms would mean the loop left numpy


def test_a_case_outlet_named_in_feeds_yaml_is_cut_from_headlines() -> None:
    title = "Reading the Prosecutor's report - EJIL: Talk!"
    # the code knows wire services, not a case's blogs: without the config's list it stays
    assert split_publisher(title) == (title, None)
    assert split_publisher(title, outlets=frozenset({"EJIL: Talk!"})) == (
        "Reading the Prosecutor's report",
        "EJIL: Talk!",
    )
    other = Entry(title="Reading the Prosecutor's report on deportations - EJIL: Talk!")
    bare = story_match_keys(Entry(title="Reading the Prosecutor's report on deportations"))
    assert bare  # the premise: a headline long enough for a title key
    assert story_match_keys(other, outlets=frozenset({"EJIL: Talk!"})) == bare
    assert story_match_keys(other) != bare


# --------------------------------------------------------------------------------------------
# story_keys: what the parse worker makes for filing, one pass over the entry


@pytest.mark.parametrize(
    ("entry", "source_url"),
    [
        (ORIGINAL, None),
        (GOOGLE_ITEM, None),
        (OUTLET_A, None),
        (OUTLET_B, None),
        # a page source whose entries link back to the listing: no URL key
        (
            Entry(title=ORIGINAL.title, link="https://www.ohchr.org/en/press-releases/"),
            "https://www.ohchr.org/en/press-releases",
        ),
        # no link: a guid that is a web address stands in for it
        (Entry(title=ORIGINAL.title, guid="https://www.example-news.com/world/a"), None),
        (Entry(title="Reading the Prosecutor's report on deportations - EJIL: Talk!"), None),
        (
            Entry(
                title="阿根廷法院裁定维吾尔种族灭绝案可以继续审理 - 自由亚洲电台", summary="维" * 80
            ),
            None,
        ),
        (Entry(title="  ", link="   ", summary="Only text, no headline."), None),
    ],
)
def test_story_keys_made_in_one_pass_are_those_filing_would_make_one_by_one(
    entry: Entry, source_url: str | None
) -> None:
    outlets = frozenset({"EJIL: Talk!"})
    keying = Keying(stopwords=CASE_WORDS, outlets=outlets, source_url=source_url)
    canonical = canonical_url(entry.link) if entry.link else None
    hasher = MinHasher()
    signature = hasher.signature(near_duplicate_text(entry, stopwords=CASE_WORDS, outlets=outlets))

    keys = story_keys(entry, keying, canonical_link=canonical)

    assert list(keys.match) == story_match_keys(
        entry, stopwords=CASE_WORDS, source_url=source_url, outlets=outlets
    )
    assert keys.title == split_publisher(entry.title, entry.publisher, outlets=outlets)[0]
    assert keys.signature == signature
    assert list(keys.bands) == hasher.band_keys(signature)
    # made later, when filing needs it (an entry judged in the main process)
    later = story_keys(entry, keying, canonical_link=canonical, signature=False)
    assert later.signature is None and later.bands == ()
    assert later.with_signature(entry, keying) == keys
