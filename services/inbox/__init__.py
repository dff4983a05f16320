"""The inbox: citizens' comments on the bureau's posts, collected, kept and answered.

- ``collector``: which posts to watch (from ``publish.outcomes``), polling them within each
  platform's budget (``schedule``, ``readers``, ``parsing``) and Meta's webhooks (``webhooks``),
  writing each new comment to ``comments.observed`` (key: post id);
- ``keeper``: turns comments into inbox entries and operators' commands into changes
  (``lifecycle``), on the compacted ``inbox.items`` and the audit topic ``inbox.changes``;
- ``spikes`` (pure) and ``spike_events``: a post whose comments arrive far above its channel's
  usual rate, announced once on ``inbox.spikes``; ``insights`` and ``terms`` (pure): volume per
  post and tag, and the most frequent terms; ``abilities`` (pure): what each channel cannot do;
- ``http_api``: the webhooks' endpoint and the operators' API; ``app`` wires them.
"""
