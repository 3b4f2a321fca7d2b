"""Issue #9, finding 10: logs were kept forever.

Lambda makes a function's log group on first use, without a retention, so every log line (ids, errors,
delivery outcomes) was kept for ever. Every function now logs to a group the template declares, kept
``LogRetentionDays`` (default 90) days.
"""

from __future__ import annotations

from typing import Any

from tests.cfn import functions, of_type


def test_every_function_logs_to_a_declared_group_kept_log_retention_days(template: dict[str, Any]) -> None:
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert functions(template)
    used = []
    for name, function in functions(template).items():
        target = function.get("LoggingConfig", {}).get("LogGroup")
        assert target is not None, f"{name} logs to a group Lambda makes, kept for ever"
        assert set(target) == {"Ref"}, name
        group = groups[target["Ref"]]["Properties"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        used.append(target["Ref"])
    assert len(set(used)) == len(used), "functions share a log group"
    # The others are SNS's SMS delivery-status logs (a service writes them, not a function of ours).
    others = set(groups) - set(used)
    assert {groups[g]["Properties"]["LogGroupName"]["Fn::Sub"].split("/")[0] for g in others} <= {"sns"}
    assert all(groups[g]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in others)


def test_logs_are_kept_90_days_unless_the_deployment_says_otherwise(template: dict[str, Any]) -> None:
    retention = template["Parameters"]["LogRetentionDays"]
    assert retention["Default"] == 90
    # CloudWatch Logs takes only these; anything else would fail the deployment, not the lint.
    assert 90 in retention["AllowedValues"]
    assert max(retention["AllowedValues"]) <= 3653
