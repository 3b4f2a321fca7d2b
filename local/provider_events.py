"""What SES and SNS would report about a message, for the local stack, where moto reports nothing.

The outbox's buttons (``local/outbox.py``) build these records and hand them to the same code that takes
them in AWS: an SES event record goes into the ``delivery-events`` queue, as SES's SNS topic delivers it
(raw); an SMS receipt goes to the ``sms_receipts`` function as a CloudWatch Logs subscription event. The
shapes follow AWS's documentation; ``tests/fixtures/delivery_events`` holds AWS's own examples, and a
test checks these have the same fields.
"""

from __future__ import annotations

import base64
import gzip
import json
import secrets
from datetime import datetime
from typing import Any

#: Button → SES event record (eventType and its detail), for e-mail.
EMAIL_EVENTS = ("delivered", "bounce", "soft_bounce", "complaint", "delay")
#: Button → SMS delivery-status line, for texts.
SMS_EVENTS = ("sms_delivered", "sms_failed")


def ses_record(event: str, message_id: str, sender: str, to: list[str], now: datetime) -> dict[str, Any]:
    """An SES event-publishing record about ``message_id``."""
    at = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail = {
        "timestamp": at,
        "source": sender,
        "sourceArn": "arn:aws:ses:eu-north-1:123456789012:identity/local",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": to,
        "headersTruncated": False,
        "headers": [],
        "commonHeaders": {"from": [sender], "to": to, "messageId": message_id, "subject": ""},
        "tags": {"ses:configuration-set": ["local"]},
    }
    recipients = [{"emailAddress": address} for address in to]
    feedback = f"local-{secrets.token_hex(8)}"
    records: dict[str, dict[str, Any]] = {
        "delivered": {
            "eventType": "Delivery",
            "delivery": {
                "timestamp": at,
                "processingTimeMillis": 1,
                "recipients": to,
                "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": "local",
            },
        },
        "bounce": _bounce("Permanent", "General", "5.1.1", "550 5.1.1 user unknown", recipients, at, feedback),
        "soft_bounce": _bounce("Transient", "MailboxFull", "4.2.2", "452 4.2.2 mailbox full", recipients, at, feedback),
        "complaint": {
            "eventType": "Complaint",
            "complaint": {
                "complainedRecipients": recipients,
                "timestamp": at,
                "feedbackId": feedback,
                "userAgent": "local",
                "complaintFeedbackType": "abuse",
                "arrivalDate": at,
            },
        },
        "delay": {
            "eventType": "DeliveryDelay",
            "deliveryDelay": {
                "timestamp": at,
                "delayType": "TransientCommunicationFailure",
                "expirationTime": at,
                "delayedRecipients": [
                    {**r, "status": "4.4.1", "diagnosticCode": "smtp; 421 4.4.1 Unable to connect"} for r in recipients
                ],
            },
        },
    }
    return {**records[event], "mail": mail}


def _bounce(
    kind: str, sub_type: str, status: str, smtp: str, recipients: list[dict[str, str]], at: str, feedback: str
) -> dict[str, Any]:
    """An SES Bounce record's own part."""
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {**r, "action": "failed", "status": status, "diagnosticCode": f"smtp; {smtp}"} for r in recipients
            ],
            "timestamp": at,
            "feedbackId": feedback,
            "reportingMTA": "dsn; local",
        },
    }


def sms_log_line(event: str, message_id: str, phone: str, now: datetime) -> dict[str, Any]:
    """One SNS SMS delivery-status log line about ``message_id``."""
    success = event == "sms_delivered"
    return {
        "notification": {"messageId": message_id, "timestamp": now.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]},
        "delivery": {
            "phoneCarrier": "Local",
            "mnc": 1,
            "numberOfMessageParts": 1,
            "destination": phone,
            "priceInUSD": 0.0,
            "smsType": "Transactional",
            "mcc": 240,
            "providerResponse": "Message has been accepted by phone carrier"
            if success
            else "Unknown error attempting to reach phone",
            "dwellTimeMs": 1,
            "dwellTimeMsUntilDeviceAck": 2,
        },
        "status": "SUCCESS" if success else "FAILURE",
    }


def logs_subscription_event(lines: list[dict[str, Any]], success: bool, region: str) -> dict[str, Any]:
    """A CloudWatch Logs subscription event carrying ``lines`` (gzipped, base64), as Lambda receives it."""
    group = f"sns/{region}/123456789012/DirectPublishToPhoneNumber" + ("" if success else "/Failure")
    data = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": group,
        "logStream": secrets.token_hex(8),
        "subscriptionFilters": ["sms-receipts"],
        "logEvents": [{"id": str(n), "timestamp": 0, "message": json.dumps(line)} for n, line in enumerate(lines)],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}
