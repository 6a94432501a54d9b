"""One error path for every slash command: short ephemeral replies, full logs for the unexpected."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

log = logging.getLogger("casewatch.discord")


class UserError(app_commands.AppCommandError):
    """Something the user can fix: the message is shown to them as it is."""


# Discord's own names for permissions, where they differ from discord.py's attribute names.
PERMISSION_NAMES = {
    "manage_guild": "Manage Server",
    "mention_everyone": "Mention @everyone, @here and All Roles",
    "view_channel": "View Channel",
    "read_messages": "View Channel",
    "external_emojis": "Use External Emojis",
    "use_application_commands": "Use Application Commands",
}


def permission_names(names: list[str]) -> str:
    """Permissions as Discord's settings name them: 'Manage Server', not 'Manage Guild'."""
    return ", ".join(PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in names)


def explain(error: app_commands.AppCommandError) -> str | None:
    """The short message for an expected error, or None when it is a bug to log."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"This command is cooling down: try again in {error.retry_after:.0f}s."
    if isinstance(error, app_commands.MissingPermissions):
        perms = permission_names(error.missing_permissions)
        return f"You need the {perms} permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        perms = permission_names(error.missing_permissions)
        return f"I am missing the {perms} permission here."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid value for this option."
    if isinstance(error, app_commands.CheckFailure):
        return "You are not allowed to use this command."
    return None


class CaseTree(app_commands.CommandTree):
    """The command tree; its on_error is the single place errors become replies."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message = explain(error)
        if message is None:
            name = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "command /%s failed in guild %s channel %s",
                name,
                interaction.guild_id,
                interaction.channel_id,
                exc_info=getattr(error, "original", error),
            )
            message = "Something went wrong on my side; it has been logged for the operators."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about an error in guild %s", interaction.guild_id)
