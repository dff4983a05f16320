"""Our X weighted length against twitter-text's own ``parseTweet``, the library X publishes.

twitter-text is an npm package, so node runs it: every text of a generated corpus (a fixed seed,
so a failure reproduces) goes to one node process, and each weighted length must equal ours. The
corpus is built from the pieces that decide X's count: links with and without a scheme, on real
and made-up TLDs, with ports, paths, queries and parentheses; the characters before and after a
link; emoji sequences; CJK and other heavy characters. The key cases are also kept as fixed
expectations in tests/unit/test_x_weighted_length.py, for machines without node.

Needs ``node`` and ``twitter-text@3.1.0`` where node finds it (``make browser`` installs it under
var/node; or ``NODE_PATH`` naming its node_modules); skipped otherwise.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.text_length import x_weighted_length

_SCRIPT = """
const tt = require('twitter-text');
const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(texts.map((t) => tt.parseTweet(t).weightedLength)));
"""
_ROOT = Path(__file__).resolve().parents[2]
# `make browser` installs it under var/node; a NODE_PATH of the caller's is kept after it.
_ENV = {
    **os.environ,
    "NODE_PATH": os.pathsep.join(
        p for p in (str(_ROOT / "var" / "node" / "node_modules"), os.environ.get("NODE_PATH", "")) if p
    ),
}


def _twitter_text_lengths(texts: list[str]) -> list[float]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: twitter-text, X's own counter, runs on node")
    probe = subprocess.run(
        [node, "-e", "require('twitter-text')"],
        cwd=_ROOT,
        env=_ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("twitter-text is not installed for node (npm install twitter-text@3.1.0, or NODE_PATH)")
    done = subprocess.run(
        [node, "-e", _SCRIPT],
        cwd=_ROOT,
        env=_ENV,
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
    )
    lengths: list[float] = json.loads(done.stdout)
    return lengths


_LINKS = [
    "bit.ly/vaks1",
    "t.me/humas",
    "wa.me/628111",
    "forms.gle/daftar",
    "youtu.be/abc",
    "linktr.ee/humas",
    "goo.gl/maps/x",
    "foo.ly",
    "jatengprov.go.id",
    "kemenkes.go.id/x",
    "s.id/abc",
    "example.co.id/path",
    "www.kompas.com",
    "https://a.co",
    "http://a.b.c.d.e.f.g/long/path?x=1",
    "example.com:8080/x",
    "https://example.com/a_(b)",
    "https://example.com/a_(b(c)d)/e",
    "https://x.id/a(b",
    "sub.domain.xyz",
    "HTTPS://EXAMPLE.COM",
    "https://t.co/abc",
    "https://t.co/" + "a" * 41,
    "http://t.co/x?y=1",
    "xn--r8jz45g.jp",
    "https://例え.jp",
    "例え.jp",
    "bücher.de/x",
    "münchen.bayern",
    "a_b.example.com",
    "a-.com",
    "-a.com",
    "a.-b.com",
    "https://a..com",
    "dpr.go.id/berita?id=3&x=",
    "foo.bar",
    "foo.bar.baz",
    "https://xn--p1ai.xn--p1ai",
    "сайт.рф",
    "mail@example.com",
    "@humas",
    "#jateng",
    "$TSLA",
    "example.museum/x.",
    "example.com/?",
    "example.com/x?",
    "example.com/x,y.z!",
    "a" * 64 + ".com",
    "https://" + "a" * 63 + ".com",
    "t.co",
    "1.2.3.4",
    "localhost:3000",
    "http://localhost:3000/x",
    "example.com/path/@user/",
    "example.comé",
    "example.com_x",
    "example.com-x",
    "嘉里大酒店",
    "x.嘉里大酒店x",
]
_AROUND = [
    " ",
    " ",
    " ",
    "",
    "\n",
    "(",
    ")",
    ".",
    ",",
    "!",
    "?",
    ":",
    "/",
    "-",
    "_",
    "@",
    "#",
    "$",
    '"',
    "'",
    "é",
    "中",
    "a",
    "Z",
    "9",
    "\u3002",
    "\u202a",
    "\ufeff",
    "…",
    "—",
    "https://",
    "http://",
]
_TEXT = [
    "Info vaksinasi:",
    "Gubernur meresmikan jembatan",
    "中文",
    "한국어",
    "Ελληνικά",
    "नमस्ते",
    "ﷺ",
    "cafe\u0301",
    "😀",
    "👍🏽",
    "🇮🇩",
    "#️⃣",
    "1\u20e3",
    "©",
    "©️",
    "™",
    "‼",
    "↔️",
    "☺",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "a\u200db",
    "\u2028",
    "\uff21",
    "\ufb01",
]


def _corpus(seed: int, size: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(size):
        pieces = []
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            source = _LINKS if kind < 0.45 else _AROUND if kind < 0.8 else _TEXT
            pieces.append(rng.choice(source))
        texts.append("".join(pieces))
    return texts


def test_weighted_length_equals_twitter_texts_on_a_generated_corpus() -> None:
    texts = _corpus(seed=280, size=4000)
    theirs = _twitter_text_lengths(texts)
    differ = [
        (t, x_weighted_length(t), w) for t, w in zip(texts, theirs, strict=True) if x_weighted_length(t) != w
    ]
    assert differ == [], f"{len(differ)} of {len(texts)} differ (text, ours, twitter-text): {differ[:10]}"
