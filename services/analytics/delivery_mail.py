"""The weekly report as an e-mail (``build_message``: pure) and its sending over SMTP.

The HTML report is the body (it is self-contained: no image, script or link to load), with a
plain-text alternative for clients that show no HTML, and the CSV attached for spreadsheets.
The Message-ID is derived from the week: a resend after a crash is recognisably the same mail.

Errors::

    MailFailed   the SMTP server refused the connection, the login, STARTTLS or the message
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate


class MailFailed(Exception):
    """The report could not be handed to the SMTP server; the message says why (never a password)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    starttls: bool
    user: str | None
    password: str | None

    def __repr__(self) -> str:  # keeps the password out of logs and tracebacks
        return f"SmtpServer({self.host}:{self.port}, starttls={self.starttls}, user={self.user!r})"


def build_message(
    *, week: str, subject: str, html: str, text: str, csv: str, sender: str, to: Sequence[str], domain: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<warta-report-{week}@{domain}>"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.add_attachment(csv.encode(), maintype="text", subtype="csv", filename=f"warta-reach-{week}.csv")
    return msg


def send(server: SmtpServer, msg: EmailMessage, timeout_s: float = 30.0) -> None:
    """Hand ``msg`` to ``server`` (blocking: run it in a thread)."""
    try:
        with smtplib.SMTP(server.host, server.port, timeout=timeout_s) as smtp:
            if server.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if server.user is not None and server.password is not None:
                smtp.login(server.user, server.password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailFailed(f"SMTP {server.host}:{server.port}: {type(exc).__name__}: {exc}") from exc
