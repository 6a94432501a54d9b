"""Search engines' redirect links, unwrapped to the article's own address. Pure, no I/O.

Bing News RSS links every item through `bing.com/news/apiclick.aspx?...&url=<article>`; Google
uses `/url?q=<article>` and AMP viewers. Google News RSS links are `news.google.com/rss/articles/
<id>`: ids made before mid-2024 ("CBMi" + base64) carry the article's address in a protobuf
field, and are decoded here; newer ids ("CBMi" + "AU_yqL...") only name the article on Google's
side, so they stay as they are (`is_opaque_link` says so) and a reader follows them through Google.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_plus, urljoin, urlsplit

from casewatch.patterns import LazyPattern

# Discord refuses an embed url longer than this (and a 400 would hold the alert back).
URL_MAX = 2048


def web_url(value: object, *, base: str = "", max_length: int | None = None) -> str | None:
    """An absolute http(s) address Discord accepts, or None: feed text is untrusted.

    Discord answers 400 to an embed whose url has spaces or no host (the alert would wait), so
    inner spaces are escaped and an address without a host is none; `max_length` for pictures.
    """
    if not value or not isinstance(value, str):
        return None
    raw = re.sub(r"\s", "%20", value.strip())
    try:
        link = urljoin(base, raw) if base else raw
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if max_length is not None and len(link) > max_length:
        return None
    return link


_GOOGLE_NEWS_OPAQUE = ("/rss/articles/", "/articles/", "/__i/rss/rd/articles/", "/read/")
_GOOGLE = LazyPattern(r"google\.(com|co)(\.[a-z]{2})?|google\.[a-z]{2}")  # after "www." is gone
_GOOGLE_ID = LazyPattern(r"[A-Za-z0-9_-]{8,}")


def query_pairs(query: str) -> list[tuple[str, str, str]]:
    """(decoded key, decoded value, raw part) for each `&`-separated part of a query."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote_plus(key), unquote_plus(value), part))
    return pairs


def unwrap_redirect(host: str, path: str, query: str) -> str | None:
    """The target of a Bing News click-through or a Google redirect/AMP viewer URL, if any.

    `host` is lower-case without "www."; the target is returned as written (not canonical).
    """
    lowered = path.lower()
    if host == "bing.com" and lowered == "/news/apiclick.aspx":
        wanted: tuple[str, ...] = ("url",)
    elif _GOOGLE.fullmatch(host) and lowered == "/url":
        wanted = ("url", "q")
    elif _GOOGLE.fullmatch(host) and lowered.startswith("/amp/"):
        rest = path[len("/amp/") :]
        target = "https://" + rest[2:] if rest.startswith("s/") else "http://" + rest
        return target + ("?" + query if query else "")
    elif host.endswith(".cdn.ampproject.org"):
        # /c/s/host/path (https), /c/host/path (http); /v/ is the viewer variant.
        match = re.match(r"^/[cv]/(s/)?(.+)$", path)
        if match is None:
            return None
        target = ("https://" if match.group(1) else "http://") + match.group(2)
        return target + ("?" + query if query else "")
    elif host == "news.google.com" and path.startswith(_GOOGLE_NEWS_OPAQUE):
        return decode_google_news_id(path.rstrip("/").rsplit("/", 1)[-1])
    else:
        return None
    for key, value, _raw in query_pairs(query):
        if key.lower() in wanted and value.lower().startswith(("http://", "https://")):
            return value
    return None


def decode_google_news_id(article_id: str) -> str | None:
    """The article address inside a Google News article id, or None when the id does not carry it.

    The id is URL-safe base64 of a small protobuf message; field 4 (tag 0x22) holds the address.
    Anything else (newer opaque ids, truncated or tampered ones) gives None: never a guess.
    """
    if not _GOOGLE_ID.fullmatch(article_id):
        return None
    try:
        raw = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        return None
    index = 0
    while index < len(raw):
        tag, index = _varint(raw, index)
        if tag is None:
            return None
        wire_type = tag & 7
        if wire_type == 0:
            _, index = _varint(raw, index)
            continue
        if wire_type != 2:
            return None
        length, index = _varint(raw, index)
        if length is None or index + length > len(raw):
            return None
        value = raw[index : index + length]
        index += length
        if tag >> 3 != 4:
            continue
        try:
            url = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme in ("http", "https") and parts.hostname and url.isprintable():
            return url
        return None
    return None


def _varint(raw: bytes, index: int) -> tuple[int | None, int]:
    value = shift = 0
    while index < len(raw) and shift < 64:
        byte = raw[index]
        index += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index
        shift += 7
    return None, index


def _host_path_query(url: str) -> tuple[str, str, str] | None:
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    while host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    return host, parts.path, parts.query


def is_opaque_link(url: str) -> bool:
    """Whether a link is a search engine's redirect that does not say where it leads."""
    found = _host_path_query(url)
    if found is None:
        return False
    host, path, query = found
    if host == "news.google.com":
        return path.startswith(_GOOGLE_NEWS_OPAQUE) and unwrap_redirect(host, path, query) is None
    if host == "bing.com" and path.lower() == "/news/apiclick.aspx":
        return unwrap_redirect(host, path, query) is None
    return False


def article_url(url: str) -> str:
    """The article's own address behind a search engine's redirect link; other links unchanged.

    Unwraps Bing News `apiclick.aspx`, Google `/url`, AMP viewers and decodable Google News
    article ids, repeatedly (a redirect to a redirect). Tracking parameters stay: this is the
    address readers follow, not the key stories are matched on (`dedup.canonical_url`).
    """
    current = url.strip()
    for _ in range(4):
        found = _host_path_query(current)
        if found is None:
            return current
        target = unwrap_redirect(*found)
        if target is None:
            return current
        current = target.strip()
    return current
