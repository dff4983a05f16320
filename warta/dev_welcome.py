"""What ``warta dev`` (``make run``) says once every service answers, in the CLI's language: the
sentences are ``dev_*`` messages of the CLI's catalog (``warta.cli_messages``), the commands to
copy are the same in both languages."""

from __future__ import annotations

from collections.abc import Mapping

from warta.cli_messages import say

_CURL = """
  curl -s -X POST {ingest}/v1/content \\
    -H 'Authorization: Bearer {approver_key}' -H 'Content-Type: application/json' \\
    -d '{{"author": "rina", "approval": {{"approved_by": "{approver}", "approved_at": "2026-11-26T10:00:00+08:00"}},
         "priority": "urgent", "content": {{"text": "Gubernur meresmikan jembatan baru."}},
         "targets": [{{"channel": "mastodon-demo"}}]}}'

  curl -s {ingest}/v1/content/<content_id> -H 'Authorization: Bearer {approver_key}'
"""


def welcome(urls: Mapping[str, str], keys: Mapping[str, Mapping[str, str]], logs: str, keys_file: str) -> str:
    """Where each service is, and a first item to post; ``urls`` by service, ``keys`` by role."""
    values = {
        **urls,
        "logs": logs,
        "keys_file": keys_file,
        "operator_key": keys["operator"]["key"],
        "approver": keys["approver"]["person"],
        "approver_key": keys["approver"]["key"],
    }
    return say("dev_welcome", curl=_CURL.format(**values), **values)
