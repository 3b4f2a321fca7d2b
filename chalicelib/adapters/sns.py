"""SmsSender on SNS: transactional text messages straight to phone numbers (no topics)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import DeliveryFailed

_TRANSACTIONAL = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}


class SnsSmsSender:
    """Checks opt-outs and publishes to E.164 numbers."""

    def __init__(self, client: Any) -> None:
        self._sns = client

    def is_opted_out(self, phone: str) -> bool:
        try:
            response = self._sns.check_if_phone_number_is_opted_out(phoneNumber=phone)
        except ClientError as err:
            raise DeliveryFailed(str(err.response["Error"]["Code"])) from err
        except BotoCoreError as err:
            raise DeliveryFailed(type(err).__name__) from err
        return bool(response["isOptedOut"])

    def send(self, phone: str, text: str) -> str:
        try:
            response = self._sns.publish(PhoneNumber=phone, Message=text, MessageAttributes=_TRANSACTIONAL)
        except ClientError as err:
            raise DeliveryFailed(str(err.response["Error"]["Code"])) from err
        except BotoCoreError as err:
            raise DeliveryFailed(type(err).__name__) from err
        return str(response["MessageId"])
