"""X's recent search of one conversation: how the inbox reads a post's replies and finds its own
(pure; the reader's; the publisher's reply look-up builds its own search).

X threads every reply to a post under the post's ``conversation_id``; recent search
(``GET /2/tweets/search/recent``, a paid read tier) reaches 7 days back, 10-100 posts a page.
"""

from __future__ import annotations


def x_search_params(conversation_id: str, page: str | None, *, author: str | None = None) -> dict[str, str]:
    """Recent search of one conversation (the last 7 days: X's recent search reaches no further),
    optionally only ``author``'s posts in it, with what a comment needs."""
    query = f"conversation_id:{conversation_id}" + (f" from:{author}" if author else "")
    params = {
        "query": query,
        "max_results": "100",
        "tweet.fields": "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets",
        "expansions": "author_id",
        "user.fields": "username,name",
    }
    if page:
        params["next_token"] = page
    return params
