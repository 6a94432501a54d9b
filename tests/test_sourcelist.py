"""Feeds named on the command line get the checks of a sources-file line, whatever their length,
and every refusal is one line that names where and never shows a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from casewatch.sourcelist import (
    SourceListError,
    check_url,
    display_name,
    load,
    read_sources_file,
)

LONG = "https://news.example.org/feeds/" + "x" * 2000 + "?q=uyghur+icc"


@pytest.mark.parametrize(
    ("given", "polled"),
    [
        ("https://example.org/feed.xml", "https://example.org/feed.xml"),
        ("  https://example.org/feed.xml\t", "https://example.org/feed.xml"),
        ("HTTPS://Example.org/Feed", "https://Example.org/Feed"),  # scheme read as lower case
        ("Http://example.org/a", "http://example.org/a"),
        ("https://example.org/feed#latest", "https://example.org/feed#latest"),  # # is the URL's
        ("https://user:secret@example.org/rss", "https://user:secret@example.org/rss"),
        ("http://[::1]:8080/rss", "http://[::1]:8080/rss"),
        (LONG, LONG),  # any length
    ],
)
def test_an_http_url_of_any_shape_or_length_is_polled_as_given(given: str, polled: str) -> None:
    assert check_url(given, "--source") == polled


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "--source: empty URL"),
        ("   ", "--source: empty URL"),
        (
            "ftp://example.org/feed.xml",
            "--source: not an http(s) URL: 'ftp://example.org/feed.xml'",
        ),
        ("file:///etc/passwd", "--source: not an http(s) URL: 'file:///etc/passwd'"),
        ("javascript:alert(1)", "--source: not an http(s) URL: 'javascript:alert(1)'"),
        ("example.org/feed", "--source: not an http(s) URL"),
        ("http:example.org", "--source: not an http(s) URL"),
        ("https:///feed.xml", "--source: no host in the URL"),
        ("https://example.org/a feed", "--source: a URL has no spaces"),
        ("https://example.org/\x00", "--source: a URL has no spaces or control characters"),
        ("https://example.org:99999/", "--source: not a valid URL"),
        ("http://[::1/feed", "--source: not a valid URL"),
    ],
)
def test_a_value_that_is_not_an_http_url_is_refused_in_one_line(given: str, says: str) -> None:
    with pytest.raises(SourceListError) as caught:
        check_url(given, "--source")
    assert str(caught.value).startswith(says)
    assert "\n" not in str(caught.value)


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(SourceListError) as caught:
        check_url("ftp://reader:hunter2@example.org/feed", "urls.txt:4")
    assert "hunter2" not in str(caught.value) and "reader" not in str(caught.value)
    assert str(caught.value).startswith("urls.txt:4: not an http(s) URL: 'ftp://***@example.org")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://example.org/feed.xml", "example.org/feed.xml"),
        ("https://example.org/", "example.org"),
        ("https://reader:hunter2@example.org/rss?x=1", "example.org/rss?x=1"),
        ("https://reader@example.org/rss", "example.org/rss"),
    ],
)
def test_a_tried_feed_is_named_by_its_address_without_credentials(url: str, name: str) -> None:
    assert display_name(url) == name


def test_a_long_url_gives_a_name_feeds_yaml_would_accept() -> None:
    name = display_name(LONG)
    assert len(name) == 100 and name.endswith("…") and name.startswith("news.example.org/")


def test_a_sources_file_reads_bom_comments_capitals_and_fragments(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_bytes(
        "\ufeff# feeds to try\r\n"
        "HTTPS://example.org/a.xml   # the court's feed\r\n"
        "\r\n"
        "   https://example.org/b.xml#top\n"
        "#https://example.org/commented-out.xml\n"
        "https://example.org/a.xml\n".encode()
    )
    assert read_sources_file(listing) == [
        "https://example.org/a.xml",
        "https://example.org/b.xml#top",
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing yet\n   # still nothing\n", "\ufeff"])
def test_an_empty_or_comment_only_sources_file_means_no_sources(tmp_path: Path, text: str) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(text, encoding="utf-8")
    assert load([], str(listing)) == []  # not None: None would mean "the configured sources"


def test_no_flag_at_all_means_the_configured_sources() -> None:
    assert load([], None) is None


def test_a_sources_file_in_another_encoding_is_refused_in_one_line(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_bytes("# news\nhttps://example.org/actualités.xml\n".encode("latin-1"))
    with pytest.raises(SourceListError) as caught:
        read_sources_file(listing)
    assert str(caught.value) == (
        f"{listing}:2: not UTF-8 text (invalid continuation byte at byte 35); save it as UTF-8"
    )


def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("https://example.org/a.xml\nfile:///etc/passwd\n", encoding="utf-8")
    with pytest.raises(SourceListError, match=rf"^{listing}:2: not an http\(s\) URL"):
        read_sources_file(listing)


def test_a_missing_sources_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SourceListError, match=r"cannot read the sources file: No such file"):
        read_sources_file(tmp_path / "nope.txt")
    with pytest.raises(SourceListError, match=r"cannot read the sources file: Is a directory"):
        read_sources_file(tmp_path)


def test_source_flags_and_file_are_merged_in_order_once_each(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("https://example.org/b\nhttps://example.org/a\n", encoding="utf-8")
    got = load(["https://example.org/a", "HTTPS://example.org/c"], str(listing))
    assert got == ["https://example.org/a", "https://example.org/c", "https://example.org/b"]
