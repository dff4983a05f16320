"""The inbox: citizens' comments on the bureau's posts, collected, kept and answered.

- ``collector``: which posts to watch (from ``publish.outcomes``), polling them within each
  platform's budget (``schedule``, ``readers``, ``parsing``) and Meta's webhooks (``webhooks``),
  writing each new comment to ``comments.observed`` (key: post id);
- ``keeper``: turns comments into inbox entries and operators' commands into changes
  (``lifecycle``), on the compacted ``inbox.items`` and the audit topic ``inbox.changes``;
- ``http_api``: the webhooks' endpoint and the operators' API; ``app`` wires them.
"""
