"""Issue #9, finding 9 (the infrastructure's part): nothing limited request rates.

A flood could run the API (and its bill) without bound, take every Lambda of the account from the workers,
and the functions allowed to send text messages could publish to any SNS topic. The packaged template now
throttles the API stage, guards it with a WAF web ACL (a per-client limit on the patient pages and AWS's
managed rules), reserves (and caps) the API's concurrency, and allows SNS publishing to phone numbers only.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.cfn import as_list, functions, of_type, role_of, statements

#: What the patient pages' paths look like, under no base path, the stage's, or a custom domain's.
PATIENT_PATHS = [
    "/p/" + "t" * 43,
    "/p/" + "t" * 43 + "/files/2",
    "/api/p/" + "t" * 43 + "/unlock",
    "/v/" + "t" * 43 + "/messages",
    "/share/api/v/" + "t" * 43 + "/attachments/at_1/preview",
]
OTHER_PATHS = ["/health", "/studies", "/visits/vi_1/chat", "/api/visits/vi_1/chat/messages", "/dicomweb/studies"]


def parameter(template: dict[str, Any], ref: Any) -> dict[str, Any]:
    """The template parameter a ``{"Ref": …}`` names."""
    assert set(ref) == {"Ref"}, ref
    found: dict[str, Any] = template["Parameters"][ref["Ref"]]
    return found


def web_acl(template: dict[str, Any]) -> dict[str, Any]:
    (acl,) = of_type(template, "AWS::WAFv2::WebACL").values()
    properties: dict[str, Any] = acl["Properties"]
    return properties


def test_the_api_stage_is_throttled_with_rate_and_burst_parameters(template: dict[str, Any]) -> None:
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    (every_method,) = [s for s in settings if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"]
    rate = parameter(template, every_method["ThrottlingRateLimit"])
    burst = parameter(template, every_method["ThrottlingBurstLimit"])
    # Sane: well under the account's 10 000 requests/s, and a burst at least a second's worth.
    assert 1 <= rate["Default"] <= 1000
    assert rate["Default"] <= burst["Default"] <= 5000
    (throttled,) = [
        r["Properties"]
        for r in of_type(template, "AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "THROTTLED"
    ]
    assert throttled["StatusCode"] == "429"
    assert json.loads(throttled["ResponseTemplates"]["application/json"])["Code"] == "TooManyRequests"


def test_a_regional_web_acl_guards_the_api_stage(template: dict[str, Any]) -> None:
    acl = web_acl(template)
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    (association,) = of_type(template, "AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    arn = association["Properties"]["ResourceArn"]["Fn::Sub"]
    # SAM turns ${RestAPI.Stage} into the stage it generates for Chalice's API.
    assert re.fullmatch(r"arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}::/restapis/\$\{RestAPI\}/stages/"
                        r"\$\{RestAPI\.Stage\}", arn)  # fmt: skip
    visibility = [acl["VisibilityConfig"], *(rule["VisibilityConfig"] for rule in acl["Rules"])]
    assert all(v["CloudWatchMetricsEnabled"] for v in visibility)
    # Sampled requests would show link tokens (paths) and session cookies in the console.
    assert not any(v["SampledRequestsEnabled"] for v in visibility)


def test_each_client_address_is_rate_limited_on_the_patient_pages(template: dict[str, Any]) -> None:
    (rule,) = [r for r in web_acl(template)["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rule["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}
    limit = rule["Statement"]["RateBasedStatement"]
    assert limit["AggregateKeyType"] == "IP"
    per_window = parameter(template, limit["Limit"])["Default"]
    # An open chat polls every 2 s (150 requests in 5 minutes): it must never be blocked.
    assert 300 <= per_window <= 5000
    assert limit.get("EvaluationWindowSec", 300) == 300
    scope = limit["ScopeDownStatement"]["RegexMatchStatement"]
    assert scope["FieldToMatch"] == {"UriPath": {}}
    pattern = re.compile(scope["RegexString"])
    assert [p for p in PATIENT_PATHS if not pattern.search(p)] == []
    assert [p for p in OTHER_PATHS if pattern.search(p)] == []


@pytest.mark.parametrize("group", ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"])
def test_the_aws_managed_rule_groups_apply(template: dict[str, Any], group: str) -> None:
    (rule,) = [
        r
        for r in web_acl(template)["Rules"]
        if r["Statement"].get("ManagedRuleGroupStatement", {}).get("Name") == group
    ]
    assert rule["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
    assert rule["OverrideAction"] == {"None": {}}  # the group's own Block actions stand
    overridden = {
        o["Name"]: o["ActionToUse"]
        for o in rule["Statement"]["ManagedRuleGroupStatement"].get("RuleActionOverrides", [])
    }
    assert set(overridden) <= {"SizeRestrictions_BODY"}  # STOW-RS bodies are larger than WAF's 8 KB
    assert all(action == {"Count": {}} for action in overridden.values())


def test_a_flood_on_the_api_cannot_take_the_workers_lambdas(template: dict[str, Any]) -> None:
    for name in ("APIHandler", "ClinicKey"):  # every clinic request runs the authorizer too
        reserved = functions(template)[name]["ReservedConcurrentExecutions"]
        default = parameter(template, reserved)["Default"]
        assert 1 <= default <= 500, name  # an account has 1 000 by default: most stays for the workers


def test_text_messages_go_to_phone_numbers_only(template: dict[str, Any]) -> None:
    senders = 0
    for name in functions(template):
        granted = list(statements(template, role_of(template, name)))
        publishing = [s for s in granted if s["Effect"] == "Allow" and "sns:Publish" in as_list(s["Action"])]
        if not publishing:
            continue
        senders += 1
        denied = [s["Resource"] for s in granted if s["Effect"] == "Deny" and "sns:Publish" in as_list(s["Action"])]
        # Publishing to a number names no resource; every topic and endpoint is an ARN, and denied.
        assert denied == [{"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}], name
    assert senders == 3  # the API (visit links), the share and delivery workers
