"""The packaged CloudFormation template agrees with the code: no local emulator applies it for us."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chalice.app import Chalice, SQSEventConfig
from pynamodb.attributes import TTLAttribute

from chalicelib import api
from chalicelib.adapters import resources
from chalicelib.settings import settings
from tests.cfn import as_list, of_type

ROOT = Path(__file__).resolve().parents[2]


def deployed(short_name: str) -> dict[str, str]:
    return {"Fn::Sub": f"patient-share-${{Stage}}-{short_name}"}


def keys(schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """A key schema in CloudFormation's order: HASH, then RANGE."""
    return sorted(
        ({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in schema), key=lambda k: k["KeyType"]
    )


def short_name(full_name: str) -> str:
    return full_name.removeprefix(settings().resource_prefix + "-")


def test_every_model_is_a_table_with_the_same_keys_indexes_ttl_and_stream(template: dict[str, Any]) -> None:
    tables = {
        json.dumps(t["Properties"]["TableName"]): t["Properties"]
        for t in of_type(template, "AWS::DynamoDB::Table").values()
    }
    assert len(tables) == len(resources.TABLES)
    for model in resources.TABLES:
        props = tables.pop(json.dumps(deployed(short_name(model.Meta.table_name))))
        schema = model._get_schema()  # pynamodb's own CreateTable arguments: the model's truth
        assert props["KeySchema"] == keys(schema["key_schema"])
        assert sorted(props["AttributeDefinitions"], key=str) == sorted(schema["attribute_definitions"], key=str)
        model_indexes = {i["index_name"]: i for i in schema.get("global_secondary_indexes", [])}
        template_indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
        assert template_indexes.keys() == model_indexes.keys()
        for name, index in model_indexes.items():
            assert template_indexes[name]["KeySchema"] == keys(index["key_schema"])
            assert template_indexes[name]["Projection"]["ProjectionType"] == index["projection"]["ProjectionType"]
        ttl = [name for name, a in model.get_attributes().items() if isinstance(a, TTLAttribute)]
        if ttl:
            assert props["TimeToLiveSpecification"] == {
                "AttributeName": model.get_attributes()[ttl[0]].attr_name,
                "Enabled": True,
            }
        else:
            assert "TimeToLiveSpecification" not in props
        stream = getattr(model.Meta, "stream_view_type", None)
        assert props.get("StreamSpecification", {}).get("StreamViewType") == stream
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_every_queue_has_its_dead_letter_queue_and_settings(template: dict[str, Any]) -> None:
    queues = of_type(template, "AWS::SQS::Queue")
    assert len(queues) == 2 * len(resources.QUEUES)
    for queue in resources.QUEUES:
        props = queues[queue.logical_id]["Properties"]
        assert props["QueueName"] == deployed(queue.short_name)
        assert props["VisibilityTimeout"] == queue.visibility_timeout_s
        redrive = props["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == queue.max_receive_count
        dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues[dlq]["Properties"]["QueueName"] == deployed(f"{queue.short_name}-dlq")
        assert props["SqsManagedSseEnabled"] is True


def test_every_bucket_is_private_encrypted_tls_only_expiring_and_notifies_its_queue(template: dict[str, Any]) -> None:
    buckets = of_type(template, "AWS::S3::Bucket")
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
        for p in of_type(template, "AWS::S3::BucketPolicy").values()
    }
    assert len(buckets) == len(resources.BUCKETS)
    for bucket in resources.BUCKETS:
        props = buckets[bucket.logical_id]["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        rule, *sooner = props["LifecycleConfiguration"]["Rules"]
        assert rule["ExpirationInDays"] == bucket.expire_after_days
        assert "Prefix" not in rule
        assert [(r["Prefix"], r["ExpirationInDays"]) for r in sooner] == list(bucket.expire_sooner)
        tls = [s for s in policies[bucket.logical_id]["Statement"] if s["Effect"] == "Deny"]
        assert tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        notified = [
            (q["Queue"]["Fn::GetAtt"][0], q.get("Filter", {}).get("S3Key", {}).get("Rules"))
            for q in props.get("NotificationConfiguration", {}).get("QueueConfigurations", [])
        ]
        assert notified == ([(bucket.notify.logical_id, bucket.notify_filter)] if bucket.notify else [])
        assert ("CorsConfiguration" in props) == bucket.browser_uploads


def test_every_sqs_handler_reports_partial_batch_failures_within_the_visibility_timeout(
    template: dict[str, Any],
) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    handlers = 0
    for function in functions.values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            handlers += 1
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            # AWS advises a visibility timeout of at least six times the function's timeout.
            queue = queue_of(event["Properties"]["Queue"])
            assert queue.visibility_timeout_s >= 6 * function["Properties"]["Timeout"]
    assert handlers == len(resources.QUEUES)


def queue_of(arn: dict[str, Any]) -> resources.Queue:
    """The queue an event source names: as Chalice writes it (``Fn::Sub`` of the name) or as we do."""
    if "Fn::GetAtt" in arn:
        (queue,) = (q for q in resources.QUEUES if [q.logical_id, "Arn"] == arn["Fn::GetAtt"])
    else:
        name = arn["Fn::Sub"].rsplit(":", 1)[1]  # the stage packaged: dev
        (queue,) = (q for q in resources.QUEUES if f"patient-share-dev-{q.short_name}" == name)
    return queue


def test_the_media_functions_are_the_media_workers_from_their_image(template: dict[str, Any]) -> None:
    """Chalice does not package them (``api.register_media``): the template must say what Chalice would."""
    media = Chalice(app_name="media")
    api.register_media(media)
    sources = {s.handler_string: s for s in media.event_sources if isinstance(s, SQSEventConfig)}
    assert len(sources) == len(media.event_sources) == len(api.MEDIA_WORKERS)
    functions = of_type(template, "AWS::Serverless::Function")
    zipped = {f["Properties"]["Handler"] for f in functions.values() if "Handler" in f["Properties"]}
    assert not zipped & set(sources), "a media worker is also in the zip"
    images = {n: f["Properties"] for n, f in functions.items() if f["Properties"].get("PackageType") == "Image"}
    assert {f["ImageConfig"]["Command"][0] for f in images.values()} == set(sources)
    # Which functions are told where the signing key is: tests/security/test_secret_key_in_secrets_manager.py.
    api_env = functions["APIHandler"]["Properties"]["Environment"]["Variables"]
    api_env = {k: v for k, v in api_env.items() if k != "SIGNING_SECRET_ARN"}
    for name, function in images.items():
        source = sources[function["ImageConfig"]["Command"][0]]
        assert function["ImageUri"] == {"Ref": "MediaImageUri"}
        assert function["Tracing"] == "Active"
        (event,) = function["Events"].values()
        assert queue_of(event["Properties"]["Queue"]).name(settings()) == source.queue  # the tests' stage
        assert event["Properties"]["BatchSize"] == source.batch_size
        # The settings Chalice gives its functions for the stage packaged (dev), nothing more or less.
        variables = {k: v for k, v in function["Environment"]["Variables"].items() if k != "SIGNING_SECRET_ARN"}
        assert resolved(variables, stage="dev") == api_env, name


def resolved(value: Any, *, stage: str) -> Any:
    """``value`` with the template's ``Stage`` parameter and ``IsProd`` condition substituted."""
    if isinstance(value, dict):
        if value == {"Ref": "Stage"}:
            return stage
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return value["Fn::Sub"].replace("${Stage}", stage)
        if set(value) == {"Fn::If"} and value["Fn::If"][0] == "IsProd":
            return resolved(value["Fn::If"][1 if stage == "prod" else 2], stage=stage)
        return {k: resolved(v, stage=stage) for k, v in value.items()}
    return value


def test_every_lambda_has_its_own_role_from_the_template_and_alarms(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    roles = {
        name: role
        for name, role in of_type(template, "AWS::IAM::Role").items()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
        == "lambda.amazonaws.com"
    }  # (others are services' own, e.g. SNS writing SMS delivery logs)
    alarms = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()]
    assert functions
    used_roles = set()
    for name, function in functions.items():
        role = function["Properties"]["Role"]
        assert role == {"Fn::GetAtt": [f"{name}Role", "Arn"]}, f"{name} must have its own role from infra/"
        assert f"{name}Role" in roles
        used_roles.add(f"{name}Role")
        for metric in ("Errors", "Throttles"):
            assert any(
                a.get("MetricName") == metric
                and a.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": name}}]
                for a in alarms
            ), f"{name} has no {metric} alarm"
    assert used_roles == set(roles), "a role without a function"
    for role in roles.values():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Deny":
                    continue  # a Deny only narrows what the role may do (tests/security holds each one)
                if statement["Resource"] == "*":
                    # SNS text messages to phone numbers have no resource to name.
                    assert set(statement["Action"]) <= {"sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"}
                    continue
                for resource in as_list(statement["Resource"]):
                    text = json.dumps(resource)
                    # Wildcards only as the key part of an S3 object ARN under a named prefix.
                    assert "*" not in text or re.search(r"Bucket\.Arn\}/[a-z]+/\*", text), f"wildcard: {text}"


def test_every_dead_letter_queue_has_an_alarm(template: dict[str, Any]) -> None:
    alarms = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()]
    for queue in resources.QUEUES:
        dlq = queue.logical_id.replace("Queue", "DLQ")
        assert any(
            a.get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}] for a in alarms
        )
    assert any(a.get("MetricName") == "EmailFailed" for a in alarms)
    assert {"Reputation.BounceRate", "Reputation.ComplaintRate"} <= {a.get("MetricName") for a in alarms}
    sms_rate = [a for a in alarms if any(m.get("Expression") for m in a.get("Metrics", []))]
    assert len(sms_rate) == 1
    for queue in resources.QUEUES:
        assert any(
            a.get("MetricName") == "ApproximateAgeOfOldestMessage"
            and a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue.logical_id, "QueueName"]}}]
            for a in alarms
        ), f"{queue.short_name}: no alarm on its oldest message"
    assert of_type(template, "AWS::CloudWatch::Dashboard")


def test_the_api_uses_our_authorizer_uncached(template: dict[str, Any]) -> None:
    definitions = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["securityDefinitions"]
    (authorizer,) = definitions.values()
    assert authorizer["name"] == "Authorization"
    assert authorizer["x-amazon-apigateway-authorizer"]["type"] == "token"
    assert authorizer["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"] == 0


def test_stage_prefixes_match_the_template() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage, stage_config in config["stages"].items():
        assert stage_config["environment_variables"]["RESOURCE_PREFIX"] == f"patient-share-{stage}"
    assert config["autogen_policy"] is False


def test_the_staff_pool_is_the_one_the_local_stack_makes(template: dict[str, Any]) -> None:
    pool = resources.STAFF_POOL
    (props,) = [p["Properties"] for p in of_type(template, "AWS::Cognito::UserPool").values()]
    assert props["UserPoolName"] == deployed(pool.short_name)
    assert props["Policies"] == pool.policies()
    assert props["Schema"] == pool.schema()
    assert props["MfaConfiguration"] == pool.mfa
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    (client,) = [c["Properties"] for c in of_type(template, "AWS::Cognito::UserPoolClient").values()]
    assert client["UserPoolId"] == {"Ref": pool.logical_id}
    assert client["ExplicitAuthFlows"] == list(pool.auth_flows)
    assert client["GenerateSecret"] is False
    assert "custom:clinic_id" not in client["WriteAttributes"]
    assert "custom:role" not in client["WriteAttributes"]
    assert (client["IdTokenValidity"], client["RefreshTokenValidity"]) == (
        pool.id_token_minutes,
        pool.refresh_token_hours,
    )
    # Every function finds the pool and its client through the settings.
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["USER_POOL_ID"] == {"Ref": pool.logical_id}
    assert variables["USER_POOL_CLIENT_ID"] == {"Ref": pool.client_logical_id}
