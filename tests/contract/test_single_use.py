"""The in-memory record of single uses behaves as the DynamoDB one (on moto): the first use of an id
wins, every later one is refused, and so is every use but one of many at the same moment."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.services.deps import Deps
from chalicelib.settings import settings
from tests.fakes import FakeClock, InMemorySingleUse
from tests.races import at_once

pytestmark = pytest.mark.contract
KEEP_UNTIL = FakeClock().now() + timedelta(minutes=10)


def test_an_id_can_be_used_once(real_or_fake: Deps) -> None:
    assert not real_or_fake.single_use.used("clinician-ticket:one")
    real_or_fake.single_use.use("clinician-ticket:one", KEEP_UNTIL)
    assert real_or_fake.single_use.used("clinician-ticket:one")
    assert not real_or_fake.single_use.used("clinician-ticket:two")
    with pytest.raises(Conflict):
        real_or_fake.single_use.use("clinician-ticket:one", KEEP_UNTIL)
    with pytest.raises(Conflict):
        real_or_fake.single_use.use("clinician-ticket:one", KEEP_UNTIL + timedelta(days=1))
    real_or_fake.single_use.use("clinician-ticket:two", KEEP_UNTIL)  # ids are independent
    real_or_fake.single_use.use("other-kind:one", KEEP_UNTIL)


@pytest.mark.parametrize("round_", range(5))
def test_of_uses_at_the_same_moment_exactly_one_wins(real_or_fake: Deps, round_: int, whole_requests: None) -> None:
    use_id = f"clinician-ticket:race-{round_}"
    assert at_once(8, lambda: real_or_fake.single_use.use(use_id, KEEP_UNTIL), Conflict) == (1, 7)


def test_a_use_is_kept_until_the_time_given(real_or_fake: Deps) -> None:
    real_or_fake.single_use.use("clinician-ticket:kept", KEEP_UNTIL)
    if isinstance(real_or_fake.single_use, InMemorySingleUse):
        assert real_or_fake.single_use.uses["clinician-ticket:kept"] == KEEP_UNTIL
        return
    item = boto3.client("dynamodb", region_name=settings().region).get_item(
        TableName=settings().table_name("single-use"), Key={"use_id": {"S": "clinician-ticket:kept"}}
    )["Item"]
    assert item["remove_at"] == {"N": str(int(KEEP_UNTIL.timestamp()))}  # the table's TTL attribute
