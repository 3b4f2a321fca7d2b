"""Mailer on SES: the deployment's verified address, under the clinic's name as display name, through the
configuration set whose event destination reports each message's fate (``services/delivery_events.py``)."""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import DeliveryFailed
from chalicelib.services.ports import Email


class SesMailer:
    """Sends through SES (SendEmail with a text and an HTML part). Throttling is retried by the client."""

    def __init__(self, client: Any, sender_email: str, configuration_set: str) -> None:
        self._ses = client
        self._sender_email = sender_email
        self._configuration_set = configuration_set

    def send(self, email: Email) -> str:
        try:
            response = self._ses.send_email(
                Source=sender(email.sender_name, self._sender_email),
                Destination={"ToAddresses": [email.to]},
                Message={
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": email.text, "Charset": "UTF-8"},
                        "Html": {"Data": email.html, "Charset": "UTF-8"},
                    },
                },
                ConfigurationSetName=self._configuration_set,
            )
        except ClientError as err:
            raise DeliveryFailed(str(err.response["Error"]["Code"])) from err
        except BotoCoreError as err:
            raise DeliveryFailed(type(err).__name__) from err
        return str(response["MessageId"])


def sender(display_name: str, address: str) -> str:
    """``"Kliniken Väst" <no-reply@…>``: the name quoted or RFC 2047-encoded, never able to add a header."""
    name = " ".join(display_name.split())  # no CR/LF can reach the header
    return formataddr((name, address), charset="utf-8")
