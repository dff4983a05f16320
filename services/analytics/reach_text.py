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
    },
}


def number(value: int | None, lang: str) -> str:
    """``value`` with the language's thousands separator; None reads "not available"."""
    if value is None:
        return TEXT[lang]["not_available"]
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "id" else text
