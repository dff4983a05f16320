"""The text of a post as X's API sends it, read back as written.

X's API sends a post's ``text`` HTML-escaped: "&", "<" and ">" arrive as "&amp;", "&lt;" and
"&gt;" (only those three; quotes and everything else arrive as written). Read raw, a post saying
"Banjir & longsor" is not the one we sent (so a lookup after a lost answer finds nothing and the
post is sent again), and a citizen's "<3" reaches the inbox as "&lt;3".
"""

from __future__ import annotations


def x_text(sent: str) -> str:
    """``sent`` as its author wrote it. "&amp;" last, so an escaped "&lt;" ("&amp;lt;") stays "&lt;"."""
    return sent.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
