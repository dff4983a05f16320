"""Delivers the previous ISO week's report every Monday, once per method, across restarts.

Methods: the lifecycle webhook (a signed POST, Standard Webhooks: ``shared.webhook_signature``)
and e-mail over SMTP (``delivery_mail``), each when configured. When a method's delivery is due
(``delivery_schedule``) the report is rendered from the worker's table, sent, and only once the
receiver acknowledged it is ``ReportDelivered`` written to the compacted ``analytics.deliveries``
(key = method). A restart reads that topic first, so a week acknowledged is never sent again; a
crash between the acknowledgement and the record sends it again (at least once), and the
webhook's ``webhook-id`` (``report-<week>``) and the mail's Message-ID are the week's, so a
receiver recognises the repeat.

A failed delivery is logged and tried again at the next check; it never stops the worker. A
record of the topic that ``load`` cannot decode, or that cannot be believed (naming a week that
had not ended when it is read or when it says it was written:
``delivery_schedule.delivered_week``), is dead-lettered (analytics is the topic's sole reader:
``shared.replay_letters``, once across restarts) and ignored, so the week really due still goes
out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.analytics.delivery_mail import MailFailed, SmtpServer, build_message, send
from services.analytics.delivery_schedule import ImplausibleDelivery, delivered_week, due_week, week_number
from services.analytics.reach_render import render_csv, render_html
from services.analytics.reach_text import TEXT
from services.analytics.weekly import weekly_report
from shared.codec import DecodeError, decode, is_tombstone
from shared.dead_letters import DeadLetters
from shared.events import ReportDelivered
from shared.ids import new_event_id
from shared.kafka import send_event
from shared.kafka_connection import KafkaAddress, client_args
from shared.outbound_http import OutboundRefused, exchange
from shared.replay_letters import ReplayLetters
from shared.webhook_signature import signed_headers

log = logging.getLogger("warta.analytics.delivery")

REPLY_LIMIT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str

    def __repr__(self) -> str:
        return f"Webhook({self.url})"


@dataclass(frozen=True)
class Mail:
    server: SmtpServer
    sender: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryPlan:
    zone: ZoneInfo
    send_hour: int
    lang: str
    webhook: Webhook | None
    mail: Mail | None


class WeeklyDelivery:
    def __init__(
        self,
        plan: DeliveryPlan,
        kafka: KafkaAddress,
        topic: str,
        producer: AIOKafkaProducer,
        session: aiohttp.ClientSession,
        entries: Callable[[], Iterable[tuple[str, Any]]],
        *,
        dead_letters: DeadLetters,
    ) -> None:
        self._plan, self._kafka, self._topic = plan, kafka, topic
        self._letters = dead_letters
        self._producer, self._session, self._entries = producer, session, entries
        self.delivered: dict[str, str] | None = None  # method -> last week delivered, once read

    async def load(self, now: datetime) -> dict[str, str]:
        """The last week each method delivered, read from the whole compacted topic at ``now``;
        a record that cannot be believed is dead-lettered (``DeadLetters`` logs it) and ignored."""
        consumer = AIOKafkaConsumer(
            **client_args(self._kafka), enable_auto_commit=False, isolation_level="read_committed"
        )
        await consumer.start()
        letters = ReplayLetters(self._kafka, self._letters)
        try:
            tp = TopicPartition(self._topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            delivered: dict[str, str] = {}
            while await consumer.position(tp) < end:
                for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                    if is_tombstone(record.value):
                        continue
                    try:
                        event = decode(record.value)
                    except DecodeError as exc:
                        await letters.undecodable(record, exc)
                        continue
                    if not isinstance(event, ReportDelivered):
                        continue
                    try:
                        week = delivered_week(event.week, event.occurred_at, now, self._plan.zone)
                    except ImplausibleDelivery as exc:
                        await letters.failed(record, exc)  # lettered once, not at each start
                        continue
                    kept = delivered.get(event.method)
                    if kept is None or week > week_number(kept):
                        delivered[event.method] = event.week
        finally:
            await consumer.stop()
            await letters.close()
        self.delivered = delivered
        return delivered

    async def run_once(self, now: datetime) -> list[str]:
        """Deliver what is due at ``now``; the methods that delivered."""
        if self.delivered is None:
            await self.load(now)
        assert self.delivered is not None
        done = []
        methods: dict[str, Callable[[str, dict[str, Any]], Any]] = {}
        if self._plan.webhook is not None:
            methods["webhook"] = self._post
        if self._plan.mail is not None:
            methods["email"] = self._mail
        docs: dict[str, dict[str, Any]] = {}
        for method, deliver in methods.items():
            week = due_week(now, self._plan.zone, self._plan.send_hour, self.delivered.get(method))
            if week is None:
                continue
            if week not in docs:
                docs[week] = weekly_report(list(self._entries()), week, self._plan.zone)
            try:
                await deliver(week, docs[week])
            except (MailFailed, OutboundRefused, DeliveryRefused, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("the %s report by %s failed, tried again later: %s", week, method, exc)
                continue
            await send_event(
                self._producer,
                self._topic,
                method,
                ReportDelivered(event_id=new_event_id(), occurred_at=now, method=method, week=week),
                partition=0,
            )
            self.delivered[method] = week
            done.append(method)
            log.info("the %s report went out by %s", week, method)
        return done

    async def _post(self, week: str, doc: dict[str, Any]) -> None:
        hook = self._plan.webhook
        assert hook is not None
        body = orjson.dumps({"type": "report.weekly", "week": week, "data": doc})
        headers = signed_headers(hook.secret, f"report-{week}", int(time.time()), body)
        reply = await exchange(
            self._session,
            "POST",
            hook.url,
            max_body=REPLY_LIMIT_BYTES,
            data=body,
            headers={**headers, "Content-Type": "application/json"},
            timeout=aiohttp.ClientTimeout(total=30),
        )
        if not 200 <= reply.status < 300:
            raise DeliveryRefused(f"{urlsplit(hook.url).netloc} answered {reply.status}")

    async def _mail(self, week: str, doc: dict[str, Any]) -> None:
        mail = self._plan.mail
        assert mail is not None
        t = TEXT[self._plan.lang]
        subject = f"{t['title']} · {t['week']} {week}"
        msg = build_message(
            week=week,
            subject=subject,
            html=render_html(doc, self._plan.lang),
            text=f"{subject}\n\n{t['mail_text']}\n",
            csv=render_csv(doc),
            sender=mail.sender,
            to=mail.to,
            domain=mail.sender.rpartition("@")[2] or "warta.local",
        )
        await asyncio.to_thread(send, mail.server, msg)


class DeliveryRefused(Exception):
    """The webhook receiver answered, but not with a 2xx."""
