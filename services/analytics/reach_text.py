"""The words of the reach report and page, in English and Bahasa Indonesia, and how each
language writes a number (12,345 / 12.345)."""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("en", "id")

TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Reach report",
        "week": "Week",
        "timezone": "Days and hours are each channel's local time; topics, tags and items use",
        "channels": "Channels this week",
        "heatmap": "Engagement by local hour of the week",
        "heatmap_note": "Darker cells: more reactions, comments and shares on posts published in that hour.",
        "top_items": "Top items of the week",
        "tags": "By tag",
        "topics": "By topic",
        "trend": "Engagement by week",
        "channel": "Channel",
        "item": "Item",
        "topic": "Topic",
        "tag": "Tag",
        "posts": "Posts",
        "reactions": "Reactions",
        "comments": "Comments",
        "shares": "Shares",
        "engagement": "Engagement",
        "reach": "Reach",
        "not_available": "not available",
        "none": "No published posts in this week.",
        "reach_note": "Reach is shown only where the platform reports it; otherwise “not available”, never 0.",
        "other_lang": "Bahasa Indonesia",
        "previous": "Previous week",
        "next": "Next week",
        "days": "Mon Tue Wed Thu Fri Sat Sun",
        "mail_text": "The report is this mail's HTML part; the figures are attached as CSV.",
        "polls": "Poll results",
        "poll_closed": "final",
        "poll_open": "still open at the last reading",
        "votes": "votes",
        "expected": "The model's expectation",
        "expected_engagement": "expected engagement of one post",
        "expected_note": "what the scheduler's slot model expects of one post published in each hour"
        " (as of {at} UTC, learned from {posts} posts; 0: its prior, the national hours)",
    },
    "id": {
        "title": "Laporan jangkauan",
        "week": "Minggu",
        "timezone": "Hari dan jam mengikuti waktu setempat tiap kanal; topik, tag, dan konten memakai",
        "channels": "Kanal minggu ini",
        "heatmap": "Interaksi menurut jam setempat dalam seminggu",
        "heatmap_note": "Sel lebih gelap: lebih banyak reaksi, komentar, dan bagikan pada unggahan di jam itu.",
        "top_items": "Konten teratas minggu ini",
        "tags": "Menurut tag",
        "topics": "Menurut topik",
        "trend": "Interaksi per minggu",
        "channel": "Kanal",
        "item": "Konten",
        "topic": "Topik",
        "tag": "Tag",
        "posts": "Unggahan",
        "reactions": "Reaksi",
        "comments": "Komentar",
        "shares": "Dibagikan",
        "engagement": "Interaksi",
        "reach": "Jangkauan",
        "not_available": "tidak tersedia",
        "none": "Tidak ada unggahan terbit pada minggu ini.",
        "reach_note": "Jangkauan hanya ditampilkan bila platform melaporkannya; selain itu “tidak tersedia”, bukan 0.",
        "other_lang": "English",
        "previous": "Minggu sebelumnya",
        "next": "Minggu berikutnya",
        "days": "Sen Sel Rab Kam Jum Sab Min",
        "mail_text": "Laporan ada di bagian HTML surel ini; angkanya terlampir sebagai CSV.",
        "polls": "Hasil jajak pendapat",
        "poll_closed": "final",
        "poll_open": "masih dibuka saat terakhir dibaca",
        "votes": "suara",
        "expected": "Perkiraan model",
        "expected_engagement": "perkiraan interaksi satu unggahan",
        "expected_note": "perkiraan model penjadwal untuk satu unggahan yang terbit di tiap jam"
        " (per {at} UTC, dipelajari dari {posts} unggahan; 0: nilai awalnya, jam nasional)",
    },
}


def number(value: int | None, lang: str) -> str:
    """``value`` with the language's thousands separator; None reads "not available"."""
    if value is None:
        return TEXT[lang]["not_available"]
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "id" else text


def decimal(value: float, lang: str) -> str:
    """``value`` to one decimal, with the language's decimal mark (12.5 / 12,5)."""
    text = f"{value:,.1f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "id" else text
