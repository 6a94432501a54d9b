"""Feeds named on the command line: `--source URL` and `--sources FILE` (one URL a line).

Both get the same checks, and each problem is one line naming where it is (`--source`, or
`FILE:LINE`). A URL may be of any length; only http and https are fetched (a scheme in capitals
is read as its lower-case self); a `#` starts a comment only at the start of a line or after a
space, so a URL's own `#fragment` stays part of it. Credentials in a URL are used to fetch it but
never shown: the name of a source tried this way is its address without them.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

NAME_MAX = 100  # what feeds.yaml allows for a source's name


class SourceListError(ValueError):
    """A URL or a sources file that cannot be used; the message is one line, secrets removed."""


def without_credentials(url: str) -> str:
    """`url` with any `user:password@` removed (for messages and names)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}://{authority}{tail}"


def check_url(value: str, where: str) -> str:
    """The URL to poll for `value`, or SourceListError saying what is wrong with it."""
    text = value.strip()
    shown = repr(without_credentials(text)[:200])
    if not text:
        raise SourceListError(f"{where}: empty URL")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise SourceListError(f"{where}: not a valid URL ({exc}): {shown}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not text[len(scheme) :].startswith("://"):
        raise SourceListError(f"{where}: not an http(s) URL: {shown}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise SourceListError(
            f"{where}: a URL has no spaces or control characters (percent-encode them): {shown}"
        )
    if not host:
        raise SourceListError(f"{where}: no host in the URL: {shown}")
    return scheme + text[len(parts.scheme) :]


def display_name(url: str) -> str:
    """A source name for a URL: host and path, no scheme, no credentials, at most 100 chars."""
    name = without_credentials(url).split("://", 1)[-1].removeprefix("***@").rstrip("/")
    return name if len(name) <= NAME_MAX else name[: NAME_MAX - 1] + "…"


def read_sources_file(path: str | Path) -> list[str]:
    """The URLs of a sources file, checked; [] for an empty or comment-only file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceListError(
            f"{path}: cannot read the sources file: {exc.strerror or exc}"
        ) from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is not part of the first URL
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        raise SourceListError(
            f"{path}:{lineno}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    urls: list[str] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if line:
            urls.append(check_url(line, f"{path}:{n}"))
    return list(dict.fromkeys(urls))


def _strip_comment(line: str) -> str:
    """A `#` at the start of a line or after a space starts a comment; elsewhere it is the URL's."""
    for i, ch in enumerate(line):
        if ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def load(sources: list[str] | None, sources_file: str | None) -> list[str] | None:
    """The URLs of `--source` and `--sources`, in order and once each.

    None when neither was given (poll the configured sources); [] when they name no feed at all,
    which means poll nothing, never "all configured ones".
    """
    if not sources and sources_file is None:
        return None
    urls = [check_url(s, "--source") for s in sources or []]
    if sources_file is not None:
        urls += read_sources_file(sources_file)
    return list(dict.fromkeys(urls))
