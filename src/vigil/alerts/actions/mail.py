"""E-mail over SMTP (stdlib smtplib): a plain-text summary of the event with a link to it.

Only the stored snapshot may be attached, and only when configured: it was face-blurred before
it was stored, and no other image of the event exists. SMTP 4xx replies and connection errors
may pass later and are retried; 5xx replies (a refused login, unknown recipients) are final.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from vigil.alerts.actions.base import Attempt, delivered, failed
from vigil.alerts.alert import Alert, Links, render, summary_text, template_values
from vigil.alerts.config import EmailAction

# Reads a stored (face-blurred) snapshot by media key; None when it is gone.
SnapshotReader = Callable[[str], bytes | None]


class EmailSender:
    kind = "email"

    def __init__(
        self,
        name: str,
        config: EmailAction,
        links: Links,
        snapshots: SnapshotReader | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.links = links
        self.snapshots = snapshots

    def target(self) -> str:
        return f"smtp://{self.config.host}:{self.config.port} to {', '.join(self.config.to)}"

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = render(self.config.subject, template_values(alert))
        message["From"] = self.config.sender
        message["To"] = ", ".join(self.config.to)
        message["Date"] = formatdate(alert.fired_ms / 1000, usegmt=True)
        message["Message-ID"] = make_msgid("vigil-alert")
        message["X-Vigil-Alert-Id"] = alert.id
        message.set_content(summary_text(alert, self.links))
        snapshot = alert.event.snapshot
        if self.config.attach_snapshot and snapshot and self.snapshots is not None:
            data = self.snapshots(snapshot)
            if data is not None:
                message.add_attachment(
                    data, maintype="image", subtype="jpeg", filename=f"{alert.event.id}.jpg"
                )
        return message

    def send(self, alert: Alert) -> Attempt:
        config = self.config
        message = self.message(alert)
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.username is not None and config.password is not None:
                    smtp.login(config.username, config.password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            return failed(
                f"all recipients refused: {_describe_refusals(error.recipients)}",
                retryable=all(400 <= code < 500 for code in codes),
            )
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode(errors="replace") if isinstance(
                error.smtp_error, bytes) else str(error.smtp_error)
            return failed(f"SMTP {error.smtp_code}: {text}", retryable=400 <= error.smtp_code < 500)
        except smtplib.SMTPNotSupportedError as error:
            return failed(f"the server does not support it: {error}", retryable=False)
        except (smtplib.SMTPException, OSError) as error:
            return failed(f"SMTP to {config.host}:{config.port} failed: {error}", retryable=True)
        accepted = len(config.to) - len(refused)
        detail = f"accepted for {accepted} recipient(s)"
        if refused:
            detail += f"; refused: {_describe_refusals(refused)}"
        return delivered(detail)


def _describe_refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {text.decode(errors='replace')})"
        for address, (code, text) in refused.items()
    )
