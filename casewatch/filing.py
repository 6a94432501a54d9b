"""File the story: which story a kept item belongs to, and what filing it there changed.

Two steps around the item's insert (the item row needs its story id, the story's counts need
the item row): `place` finds the story (exact keys, then MinHash LSH candidates within the
story window) or creates one, and recognises the same entry of a source under a new guid;
`attach` refreshes the story's counts, chooses its summary, promotes it to relevant, and
returns a `StoryFiled` saying what happened. SQL lives in `storage.stories`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from casewatch import dedup, summary
from casewatch.alerting import StoryFiled
from casewatch.model import Entry
from storage import stories

if TYPE_CHECKING:
    from storage.db import Database


@dataclass(frozen=True)
class Placement:
    """The story of a kept item, found or created before the item is stored."""

    story_id: int
    created: bool
    alias_of: int | None = None  # the same entry of this source under a new guid: that item


class StoryFiler:
    """Story matching, aliases and summary choice, for items the rules kept."""

    def __init__(
        self,
        db: Database,
        *,
        stopwords: frozenset[str],
        outlets: frozenset[str],
        window: timedelta,
    ) -> None:
        self.db = db
        self.stopwords = stopwords
        self.outlets = outlets
        self.window = window

    def keying(self, page_url: str | None = None) -> dedup.Keying:
        """What story keys depend on besides the entry (`page_url`: a page source's listing)."""
        return dedup.Keying(stopwords=self.stopwords, outlets=self.outlets, source_url=page_url)

    def place(
        self,
        entry: Entry,
        *,
        source_id: int,
        page_url: str | None,
        canonical_url: str | None,
        kind: str,
        lead: str,
        now: datetime,
        keys: dedup.StoryKeys | None = None,
    ) -> Placement:
        """Find or create the story of an entry. `page_url`: the listing of a page source,
        whose links back to itself name no article. `keys`: the entry's story keys when they
        were made already (by the parse worker, with this filer's `keying(page_url)`)."""
        keying = self.keying(page_url)
        if keys is None:
            keys = dedup.story_keys(entry, keying, canonical_link=canonical_url, signature=False)
        match = list(keys.match)
        since = now - self.window
        story_id = stories.find_by_keys(self.db, match, titles_since=since)
        if story_id is None:
            keys = keys.with_signature(entry, keying)
            assert keys.signature is not None
            for cand_id, cand_sig in stories.band_candidates(
                self.db, list(keys.bands), since=since
            ):
                if dedup.is_near_duplicate(keys.signature, cand_sig):
                    story_id = cand_id
                    break
        if story_id is not None:
            alias = stories.same_entry_again(
                self.db, story_id, source_id, canonical_url, entry.title
            )
            if alias is not None:
                return Placement(story_id, created=False, alias_of=alias)
            stories.add_keys(self.db, story_id, match)
            return Placement(story_id, created=False)
        story_id = stories.create(
            self.db,
            title=keys.title,
            url=entry.link,
            kind=kind,
            relevant=False,  # set by `attach` when the first relevant item joins
            now=now,
            published_at=entry.published,
            summary=lead,
            signature=keys.signature,
        )
        stories.add_keys(self.db, story_id, match + list(keys.bands))
        return Placement(story_id, created=True)

    def attach(
        self,
        placement: Placement,
        *,
        item_id: int,
        lead: str,
        relevant: bool,
        court: bool,
        now: datetime,
    ) -> StoryFiled:
        """Count the stored item in its story, re-choose the summary, promote the story."""
        story_id = placement.story_id
        counted = stories.count_item(self.db, story_id, now=now)
        story = counted.before or {}
        before_items = int(story.get("item_count") or 0)
        before_outlets = int(story.get("outlet_count") or 0)
        outlets_now = counted.outlets
        filled = False
        if placement.created:
            stories.set_summary(self.db, story_id, lead, item_id)
        elif lead and not story.get("summary"):
            # Later outlets fill the gaps: a story found with no usable lead (a search feed, a
            # court page) takes the lead of the first report that has one.
            stories.set_summary(self.db, story_id, lead, item_id)
            filled = True
        elif outlets_now > before_outlets:
            # Another outlet's lead may be the more central one; the same outlet again (an
            # update of its own article) does not change the choice.
            self._refresh_summary(story_id, story)
        was_relevant = bool(story.get("relevant"))
        became_relevant = relevant and not was_relevant
        if became_relevant:
            stories.set_relevant(self.db, story_id, kind="court" if court else "news")
        elif court and story.get("kind") != "court":
            stories.set_relevant(self.db, story_id, kind="court")
        return StoryFiled(
            story_id=story_id,
            new_story=placement.created,
            became_relevant=became_relevant,
            joined=(
                not became_relevant
                and was_relevant
                and outlets_now > before_outlets
                and before_items > 0
            ),
            kind="court" if court else str(story.get("kind") or "news"),
            lead_filled=filled and was_relevant,
            kind_was=str(story.get("kind") or "news") if was_relevant else None,
        )

    def _refresh_summary(self, story_id: int, story: dict) -> None:
        found = stories.item_leads(self.db, story_id)
        if len(found) < 2:
            return
        best_id, best = found[summary.story_summary([lead for _, lead in found])]
        if best_id == story.get("lead_item_id") and best == story.get("summary"):
            return  # the choice stands: nothing to write
        stories.set_summary(self.db, story_id, best, best_id)
