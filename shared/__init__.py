"""Warta's own shared code: event schemas, codec, topic registry, channel config, settings."""
