"""Issue #9, finding 5: the signing key was a plain environment variable of every function.

``SECRET_KEY`` was resolved from Secrets Manager into every function's environment at deploy time, so
anyone who could read a function's configuration could forge chat sessions and rebuild link tokens. The
key now stays in Secrets Manager, read at run time, only by the functions that sign, and rotates.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.adapters.aws import client
from chalicelib.services.deps import Deps
from chalicelib.settings import SettingsError, load, settings
from tests.cfn import allows, as_list, environment, functions, of_type, role_of, statements

#: The functions that sign or verify, and why; every other one must be unable to read the key.
SIGNING_FUNCTIONS = {
    "APIHandler": "sessions, tickets, the unlock cookie, new links, client fingerprints",
    "ShareWorker": "re-makes the share link it sends",
    "DeliveryWorker": "re-makes the share or visit link it sends again",
    "RotateSecretKey": "makes, tests and promotes the next key",
}
SECRETISH = re.compile(r"SECRET|KEY|PASSWORD|TOKEN|CREDENTIAL", re.IGNORECASE)
SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")


def names_a_secret(value: Any, template: dict[str, Any]) -> bool:
    """Whether a value is a reference to a secret (its ARN), never the secret's content."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        target = template["Resources"].get(value["Ref"], {})
        return bool(target.get("Type") == "AWS::SecretsManager::Secret")
    return isinstance(value, str) and bool(SECRET_ARN.match(value))


def test_no_function_environment_holds_a_secret(template: dict[str, Any]) -> None:
    assert functions(template)
    for name in functions(template):
        for variable, value in environment(template, name).items():
            text = json.dumps(value)
            # A dynamic reference puts the secret's value into the function's configuration at deploy time.
            assert "{{resolve:secretsmanager" not in text, f"{name}: {variable}"
            assert "{{resolve:ssm-secure" not in text, f"{name}: {variable}"
            if SECRETISH.search(variable):
                assert names_a_secret(value, template), f"{name}: {variable} is not a secret's ARN"


def test_only_the_functions_that_sign_can_read_the_signing_key(template: dict[str, Any]) -> None:
    readers: dict[str, list[Any]] = {}
    for name in functions(template):
        for statement in statements(template, role_of(template, name)):
            if allows(statement, "secretsmanager:GetSecretValue"):
                readers.setdefault(name, []).extend(as_list(statement["Resource"]))
    assert readers.keys() == SIGNING_FUNCTIONS.keys()
    for name, resources in readers.items():
        assert resources == [{"Ref": "SecretKey"}], f"{name} may read more than the signing key: {resources}"
    # Exactly those are told where the key is (an ARN); the others have no reason to look for it.
    for name in functions(template):
        told = environment(template, name).get("SIGNING_SECRET_ARN")
        assert told == ({"Ref": "SecretKey"} if name in SIGNING_FUNCTIONS else None), name


def test_the_key_rotates_on_a_schedule_through_a_function_that_can_touch_nothing_else(
    template: dict[str, Any],
) -> None:
    secret = template["Resources"]["SecretKey"]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
    (schedule,) = of_type(template, "AWS::SecretsManager::RotationSchedule").values()
    assert schedule["Properties"]["SecretId"] == {"Ref": "SecretKey"}
    assert schedule["Properties"]["RotationLambdaARN"] == {"Fn::GetAtt": ["RotateSecretKey", "Arn"]}
    assert schedule["Properties"]["RotationRules"] == {"AutomaticallyAfterDays": {"Ref": "SecretRotationDays"}}
    rotation = functions(template)["RotateSecretKey"]
    assert rotation["Handler"] == "chalicelib.workers.rotation.rotate_secret_key"
    (granted,) = statements(template, role_of(template, "RotateSecretKey"))
    assert granted["Resource"] == {"Ref": "SecretKey"}
    assert set(as_list(granted["Action"])) == {
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    }
    (invoke,) = (
        p["Properties"]
        for p in of_type(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"
    )
    assert invoke["FunctionName"] == {"Fn::GetAtt": ["RotateSecretKey", "Arn"]}
    assert invoke["SourceArn"] == {"Ref": "SecretKey"}


@pytest.mark.parametrize("variable", ["SECRET_KEY", "SIGNING_SECRET_ARN"])
def test_the_service_refuses_key_material_in_its_environment(variable: str) -> None:
    env = {"STAGE": "prod", "PUBLIC_BASE_URL": "https://share.example.org", variable: "k" * 64}
    with pytest.raises(SettingsError, match=variable):
        load(env)


def test_the_service_signs_with_the_key_secrets_manager_holds(real_deps: Deps) -> None:
    stored = client("secretsmanager").get_secret_value(SecretId=settings().signing_secret)["SecretString"]
    assert real_deps.keys.key_ring().current == stored.encode()
    assert len(stored.encode()) >= 32
