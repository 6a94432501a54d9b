"""The Discord adapter: thin cogs over the casewatch core. Only this package and bot.py import discord."""
