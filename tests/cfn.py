"""Reading the packaged CloudFormation template (``sam.yaml``): resources, functions, their roles and settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The resources of one type, by logical id."""
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Lambda function's properties (Chalice's and the template's own), by logical id."""
    return {name: r["Properties"] for name, r in of_type(template, "AWS::Serverless::Function").items()}


def environment(template: dict[str, Any], function: str) -> dict[str, Any]:
    """A function's environment variables as it runs: the template's Globals, then its own."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = functions(template)[function].get("Environment", {}).get("Variables", {})
    return {**shared, **own}


def role_of(template: dict[str, Any], function: str) -> str:
    """The logical id of the role a function runs with."""
    role = functions(template)[function]["Role"]
    (role_id, attribute) = role["Fn::GetAtt"]
    assert attribute == "Arn", role
    return str(role_id)


def statements(template: dict[str, Any], role: str) -> Iterator[dict[str, Any]]:
    """Every statement of a role's inline policies."""
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    """A policy's Action or Resource as a list (IAM takes one value or a list)."""
    return value if isinstance(value, list) else [value]


def allows(statement: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement grants ``action`` (exactly, by a service wildcard, or by ``*``)."""
    service = action.split(":")[0]
    return statement["Effect"] == "Allow" and any(
        a in {action, f"{service}:*", "*"} for a in as_list(statement["Action"])
    )
