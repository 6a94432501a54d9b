"""Paged answers with Previous/Next buttons, for search results and long listings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import discord

PageFn = Callable[[int], tuple[discord.Embed, int]]


class Pager(discord.ui.View):
    """Shows page 0 and flips pages on button clicks by the user who asked."""

    def __init__(
        self, page: PageFn, *, owner_id: int, ephemeral: bool = False, timeout: float = 600
    ) -> None:
        super().__init__(timeout=timeout)
        self.page_fn = page
        self.owner_id = owner_id
        self.ephemeral = ephemeral
        self.index = 0
        self.pages = 1
        self._origin: discord.Interaction | None = None

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index <= 0
        self.next.disabled = self.index >= self.pages - 1

    async def start(self, interaction: discord.Interaction) -> None:
        embed, self.pages = self.page_fn(0)
        self._sync_buttons()
        view = self if self.pages > 1 else discord.utils.MISSING
        self._origin = interaction
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, view=view, ephemeral=self.ephemeral)
        else:
            await interaction.response.send_message(
                embed=embed, view=view, ephemeral=self.ephemeral
            )

    async def on_timeout(self) -> None:
        """Take the buttons away: after the timeout nobody listens, and a click on a live-looking
        button would end in Discord's "This interaction failed". The interaction token lives 15
        minutes, longer than the default timeout, so the original response can still be edited."""
        if self._origin is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await self._origin.edit_original_response(view=None)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item
    ) -> None:
        await super().on_error(interaction, error, item)
        if not interaction.response.is_done():
            await interaction.response.send_message(
                "Something went wrong on my side; it has been logged.", ephemeral=True
            )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Run the command yourself to page through it.", ephemeral=True
            )
            return False
        return True

    async def _show(self, interaction: discord.Interaction) -> None:
        embed, self.pages = self.page_fn(self.index)
        self.index = min(self.index, self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.index += 1
        await self._show(interaction)
