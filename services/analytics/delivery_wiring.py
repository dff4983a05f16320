"""The weekly delivery's plan from the analytics settings: which methods are configured, and the
SMTP password from the environment or the credential store (this host's vault, caught up with the
credentials topic at start by ``caught_up_credentials``).

Errors: ``DeliveryMisconfigured`` for half a method (a webhook URL without its secret, an SMTP
host without sender or recipients); the worker refuses to start with it rather than skip it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.analytics.delivery import DeliveryPlan, Mail, Webhook
from services.analytics.delivery_mail import SmtpServer
from services.analytics.settings import AnalyticsSettings
from shared.credentials.credential_topic import following, share_accounts
from shared.credentials.opening import open_vault, secret_store
from shared.kafka import ensure_topics


class DeliveryMisconfigured(ValueError):
    """A delivery method is configured in part; the message names the missing setting."""


def delivery_plan(settings: AnalyticsSettings) -> DeliveryPlan:
    return DeliveryPlan(
        zone=ZoneInfo(settings.report_timezone),
        send_hour=settings.report_delivery_hour,
        lang=settings.report_delivery_lang,
        webhook=_webhook(settings),
        mail=_mail(settings),
    )


def _webhook(settings: AnalyticsSettings) -> Webhook | None:
    if settings.report_webhook_url is None:
        return None
    if settings.report_webhook_secret is None:
        raise DeliveryMisconfigured("WARTA_REPORT_WEBHOOK_URL needs WARTA_REPORT_WEBHOOK_SECRET")
    return Webhook(settings.report_webhook_url, settings.report_webhook_secret.get_secret_value())


def _mail(settings: AnalyticsSettings) -> Mail | None:
    if settings.smtp_host is None:
        return None
    if settings.report_mail_from is None or not settings.report_mail_to:
        raise DeliveryMisconfigured("WARTA_SMTP_HOST needs WARTA_REPORT_MAIL_FROM and WARTA_REPORT_MAIL_TO")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    if password is None and settings.smtp_password_secret is not None:
        store = secret_store(settings, open_vault(settings))
        password = store.get(settings.smtp_password_secret).token
    server = SmtpServer(
        settings.smtp_host, settings.smtp_port, settings.smtp_starttls, settings.smtp_user, password
    )
    return Mail(server, settings.report_mail_from, settings.report_mail_to)


async def caught_up_credentials(settings: AnalyticsSettings) -> None:
    """This host's vault made equal to the credentials topic, once, before the plan reads the SMTP
    password from it: the entry may have been stored on another host, whose vault only the topic
    carries here. Read-only but for what this start moved in from a clear file, which goes on the
    topic first (as the publisher's does), or the topic's older record would replace it."""
    if settings.smtp_host is None or settings.smtp_password is not None or not settings.smtp_password_secret:
        return
    moved: list[str] = []
    vault = open_vault(settings, moved)
    if vault is None:
        return  # a clear secrets file is this host's alone
    topic = settings.topics.credentials
    await ensure_topics(settings.kafka, [s for s in settings.topics.specs() if s.name == topic])
    await share_accounts(settings, vault, moved)
    async with following(settings.kafka, topic, vault):
        pass  # caught up on entering: the password is read once, at start
