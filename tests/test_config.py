"""feeds.yaml validation: every error names file, line and field; unknown keys are errors."""

from __future__ import annotations

import dataclasses
import os
import pickle
import struct
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from casewatch import config
from casewatch.config import Config, ConfigError, load_config, parse_config, parse_duration

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
case:
  name: Test case
relevance:
  groups:
    people: [Uyghur]
  rules:
    - {name: r, any: [people], score: 2}
sources:
  - name: A
    url: https://a.example.org/feed
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, name="feeds.yaml")
    return info.value.errors


def test_the_shipped_feeds_yaml_is_valid() -> None:
    cfg = load_config(ROOT / "feeds.yaml")
    assert cfg.sources and cfg.timeline and cfg.relevance.rules


def test_a_minimal_config_is_valid_and_fills_defaults() -> None:
    cfg = parse_config(GOOD)
    assert cfg.sources[0].kind == "news" and cfg.interval_for(cfg.sources[0]) == 1800


def test_unknown_key_is_an_error_with_its_line() -> None:
    errs = errors_of(GOOD + "    colour: blue\n")
    assert errs == [
        "feeds.yaml:11: sources[0].colour: unknown key (check the spelling; unknown keys are errors)"
    ]


def test_bad_values_report_every_error_with_line_and_field() -> None:
    text = GOOD.replace(
        "url: https://a.example.org/feed", "url: ftp://x\n    kind: gossip\n    interval: soon"
    )
    errs = errors_of(text)
    joined = "\n".join(errs)
    assert "feeds.yaml:11: sources[0].kind:" in joined
    assert "feeds.yaml:12: sources[0].interval: expected a duration" in joined


def test_page_source_without_selectors_is_refused() -> None:
    errs = errors_of(GOOD + "    format: page\n")
    assert any("sources[0]" in e and "page" in e for e in errs)


def test_duplicate_source_names_are_refused() -> None:
    errs = errors_of(GOOD + "  - name: a\n    url: https://b.example.org/feed\n")
    assert any("sources[1]" in e and "already used" in e for e in errs)
    assert errs[0].startswith("feeds.yaml:11:")


def test_yaml_syntax_error_has_a_line() -> None:
    errs = errors_of(GOOD + "  - name: [unclosed\n")
    assert errs[0].startswith("feeds.yaml:1") and "YAML syntax" in errs[0]


def test_rule_naming_an_unknown_group_is_an_error() -> None:
    errs = errors_of(GOOD.replace("any: [people]", "any: [persons]"))
    assert any("persons" in e for e in errs)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), (90, 90), ("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-5m", "0", True])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_check_command_exits_2_and_prints_the_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("name: A", "name: A\n    kind: gossip"), encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bot.py"),
            "check",
            "--config",
            str(bad),
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 2
    assert f"{bad}:10: sources[0].kind:" in run.stderr
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    ok = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bot.py"),
            "check",
            "--config",
            str(good),
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert ok.returncode == 0, ok.stderr


def test_a_source_override_naming_an_unknown_group_is_an_error_at_load_time() -> None:
    errs = errors_of(GOOD + "    rules:\n      rules: [{name: extra, all: [nowhere], score: 1}]\n")
    assert any(e.startswith("feeds.yaml:9: sources[0]: rules:") and "nowhere" in e for e in errs), (
        errs
    )


# Every kind of error, word for word: the types are dataclasses that pydantic checks (its own
# words for a dataclass's errors differ from a model's); what a user reads stays as it was.
RICH = "case:\n  name: Test case\nrelevance:\n  groups:\n    people: [Uyghur]\n    forum: [ICC]\n  rules:\n    - {name: r, any: [people], score: 2}\n  court_groups: [forum]\nsources:\n  - name: A\n    url: https://a.example.org/feed\n"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            ("name: Test case", "nme: Test case"),
            [
                "feeds.yaml:1: case.name: Field required",
                "feeds.yaml:2: case.nme: unknown key (check the spelling; unknown keys are errors)",
            ],
            id="case-unknown",
        ),
        pytest.param(
            ("  - name: A\n    url: https://a.example.org/feed\n", "  - https://x.example/feed\n"),
            [
                "feeds.yaml:11: sources[0]: Input should be a valid dictionary or instance of SourceConfig"
            ],
            id="sources-item-str",
        ),
        pytest.param(
            ("- {name: r, any: [people], score: 2}", "- r"),
            [
                "feeds.yaml:8: relevance.rules[0]: Input should be a valid dictionary or instance of Rule"
            ],
            id="rel-rule-str",
        ),
        pytest.param(
            ("", "    format: page\n    page: li\n"),
            [
                "feeds.yaml:14: sources[0].page: Input should be a valid dictionary or instance of PageSelectors"
            ],
            id="src-page-str",
        ),
        pytest.param(
            ("url: https://a.example.org/feed", "url: ftp://x"),
            ["feeds.yaml:11: sources[0]: url must be an http(s) address, got 'ftp://x'"],
            id="src-url-only",
        ),
        pytest.param(
            ("", "  - name: B\n    url: https://a.example.org/feed\n"),
            [
                "feeds.yaml:13: sources[1]: url https://a.example.org/feed is already used by sources[0]"
            ],
            id="src-dup-url",
        ),
        pytest.param(
            (
                "",
                "    rules:\n      rules: [{name: '', score: x, colour: 1}]\n      drop: [{name: d}]\n",
            ),
            [
                "feeds.yaml:14: sources[0].rules.rules[0].name: String should have at least 1 character",
                "feeds.yaml:14: sources[0].rules.rules[0].score: Input should be a valid number, unable to parse string as a number",
                "feeds.yaml:14: sources[0].rules.rules[0].colour: unknown key (check the spelling; unknown keys are errors)",
                "feeds.yaml:15: sources[0].rules.drop[0]: rule 'd' needs `all` or `any` (a list of group names)",
            ],
            id="src-rules-rule-bad",
        ),
        pytest.param(
            (
                "  court_groups",
                "  drop: [{name: d, any: [x], unless: [y]}]\n  demote: [{name: e, all: [z]}]\n  court_groups",
            ),
            [
                "feeds.yaml:9: relevance.drop: drop[0] rule 'd' names unknown group 'x' in `any` (known groups: forum, people)",
                "feeds.yaml:10: relevance.demote: demote[0] rule 'e' names unknown group 'z' in `all` (known groups: forum, people)",
            ],
            id="rel-drop-unknown-group",
        ),
        pytest.param(
            (
                "court_groups: [forum]",
                "court_groups: [forum, court]\n  court_acts: [acts]\n  court_unless: [x]",
            ),
            [
                "feeds.yaml:9: relevance.court_groups: court_groups names unknown group 'court' (known groups: forum, people)",
                "feeds.yaml:10: relevance.court_acts: court_acts names unknown group 'acts' (known groups: forum, people)",
                "feeds.yaml:11: relevance.court_unless: court_unless names unknown group 'x' (known groups: forum, people)",
            ],
            id="rel-court-unknown",
        ),
        pytest.param(
            ("", "fetch: {connect_timeout: 60, total_timeout: 30}\n"),
            ["feeds.yaml:13: fetch: connect_timeout (60.0s) is longer than total_timeout (30.0s)"],
            id="fetch-order",
        ),
        pytest.param(
            ("", "    publisher: ''\n"),
            ["feeds.yaml:13: sources[0].publisher: String should have at least 1 character"],
            id="src-publisher-empty",
        ),
        pytest.param(
            (
                "",
                "colour: blue\ndefaults: {interval: soon}\ntimeline: [{title: x}]\nfetch: {per_host: 0}\n",
            ),
            [
                "feeds.yaml:14: defaults.interval: expected a duration like 90, 30s, 15m, 2h or 1d, got 'soon'",
                "feeds.yaml:16: fetch.per_host: Input should be greater than 0",
                "feeds.yaml:15: timeline[0].date: Field required",
                "feeds.yaml:13: colour: unknown key (check the spelling; unknown keys are errors)",
            ],
            id="top-many",
        ),
        pytest.param(
            ("", "digest: {time: 8, timezone: 5}\n"),
            [
                "feeds.yaml:13: digest.time: expected a time as HH:MM (24-hour), got 8",
                "feeds.yaml:13: digest.timezone: expected a time zone name like Europe/Paris, got 5",
            ],
            id="digest-time",
        ),
        pytest.param(
            ("", "defaults: {failing_after: 0, parse_workers: 17, stale_after: x}\n"),
            [
                "feeds.yaml:13: defaults.failing_after: Input should be greater than or equal to 1",
                "feeds.yaml:13: defaults.parse_workers: Input should be less than or equal to 16",
                "feeds.yaml:13: defaults.stale_after: expected a duration like 90, 30s, 15m, 2h or 1d, got 'x'",
            ],
            id="defaults-many",
        ),
        pytest.param(
            ("", "    rules: {groups: {people: [uyghur]}}\n"),
            [
                "feeds.yaml:11: sources[0]: rules: source rules do not fit the case rules: group 'people' lists the same term twice: 'Uyghur' and 'uyghur'"
            ],
            id="src-rules-dup-term",
        ),
        pytest.param(
            ("people: [Uyghur]", "people: [Uyghur, uyghur]"),
            [
                "feeds.yaml:4: relevance.groups: group 'people' lists the same term twice: 'Uyghur' and 'uyghur'"
            ],
            id="rel-groups-twice",
        ),
    ],
)
def test_errors_name_file_line_and_field_word_for_word(
    edit: tuple[str, str], expected: list[str]
) -> None:
    old, new = edit
    text = RICH.replace(old, new) if old else RICH + new
    assert errors_of(text) == expected


def test_source_by_url_follows_a_copy_with_other_sources() -> None:
    cfg = parse_config(GOOD)
    url = "https://a.example.org/feed"
    assert cfg.source_by_url(url) is cfg.sources[0]
    assert cfg.source_by_url("https://b.example.org/feed") is None
    # A copy with its own source list must not answer from the original's index.
    emptied = dataclasses.replace(cfg, sources=[])
    assert emptied.source_by_url(url) is None
    assert cfg.source_by_url(url) is cfg.sources[0]


# ---------------------------------------------------------------------------------------------
# the parsed-config cache


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "casewatch"


def test_a_valid_config_is_read_from_the_cache_the_second_time(
    tmp_path: Path, cache_home: Path
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD + "timeline:\n  - {date: 2020-12-14, title: Decision}\n")
    first = load_config(path)
    cached = list(cache_home.glob("config-*.pickle"))
    assert len(cached) == 1
    # The cached copy is what the second load reads: a changed copy shows through.
    cached[0].write_bytes(cached[0].read_bytes().replace(b"Test case", b"Tost case"))

    second = load_config(path)

    assert first.case.name == "Test case"
    assert second.case.name == "Tost case"
    assert second.timeline == first.timeline  # dates survive the cache
    assert dataclasses.replace(second, case=first.case) == first


def test_a_config_read_from_the_cache_does_not_import_pydantic(
    tmp_path: Path, cache_home: Path
) -> None:
    """Issue 9 (start-up): in a new process a cached config is read back as it was validated,
    without pydantic (about half of a cached start); a file not read before is validated."""
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    load_config(path)
    probe = (
        "import sys; from casewatch import config;"
        f" c = config.load_config({str(path)!r});"
        " print(c.case.name, c.sources[0].url, 'pydantic' in sys.modules)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home.parent)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout == "Test case https://a.example.org/feed False\n", done.stderr
    path.write_text(GOOD.replace("Test case", "Other case"))  # not cached: validated
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout == "Other case https://a.example.org/feed True\n", done.stderr


def test_the_cache_may_hold_every_type_a_config_is_made_of_and_no_other() -> None:
    """The cache's unpickler allows `config._types()`: a type added to the config (a field
    whose type is a new dataclass) and not listed would make every cached read fail."""
    reachable: set[type] = set()
    todo: list[object] = [Config]
    while todo:
        kind = todo.pop()
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            if kind not in reachable:
                reachable.add(kind)
                todo.extend(typing.get_type_hints(kind).values())
        else:
            todo.extend(typing.get_args(kind))  # list[Rule], SourceRelevance | None, Annotated
    assert set(config._types()) == reachable
    assert len(config._types()) == len(reachable)


def test_a_cache_file_naming_anything_but_a_config_is_refused(
    tmp_path: Path, cache_home: Path
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    load_config(path)
    [cached] = cache_home.glob("config-*.pickle")
    # A pickle that would call os.system if it were loaded by the plain unpickler.
    marker = tmp_path / "called"
    cached.write_bytes(pickle.dumps(_Calls(marker)))
    assert cached.read_bytes().count(b"system")  # the plain unpickler would call it

    assert load_config(path).case.name == "Test case"  # parsed again, nothing called
    assert not marker.exists()


class _Calls:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_changed_file_is_parsed_again(tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    load_config(path)
    path.write_text(GOOD.replace("Test case", "Edited case"))

    assert load_config(path).case.name == "Edited case"


def test_an_invalid_config_is_never_cached(tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD.replace("name: Test case", "nme: Test case"))
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"feeds.yaml:2: case.nme: unknown key"):
            load_config(path)
    assert not cache_home.exists() or not list(cache_home.iterdir())


def test_a_broken_cache_file_is_ignored(tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    load_config(path)
    for cached in cache_home.glob("config-*.pickle"):
        cached.write_bytes(cached.read_bytes()[:40])  # cut short

    assert load_config(path).case.name == "Test case"


def test_a_damaged_cache_file_that_makes_the_unpickler_fail_oddly_is_ignored(
    tmp_path: Path, cache_home: Path
) -> None:
    """A damaged length field makes pickle raise MemoryError, not UnpicklingError."""
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    load_config(path)
    damaged = b"\x80\x05\x8e" + struct.pack("<Q", 2**62) + b"x"  # BINBYTES8 of 4 EiB
    with pytest.raises(MemoryError):
        pickle.loads(damaged)
    for cached in cache_home.glob("config-*.pickle"):
        cached.write_bytes(damaged)
    assert load_config(path).case.name == "Test case"


def test_a_cache_folder_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)

    assert load_config(path).case.name == "Test case"


def test_a_source_names_its_outlet_with_publisher() -> None:
    cfg = parse_config(GOOD + "    publisher: '  The   Guardian '\n")
    assert cfg.sources[0].publisher == "The Guardian"


@pytest.mark.parametrize("value", ["''", "'   '", "[Reuters]"])
def test_a_publisher_that_names_no_outlet_is_an_error_with_its_line(value: str) -> None:
    errs = errors_of(GOOD + f"    publisher: {value}\n")
    assert len(errs) == 1 and errs[0].startswith("feeds.yaml:11: sources[0].publisher:")
