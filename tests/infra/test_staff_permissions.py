"""The API's role may make every administrator call of Cognito the staff directory makes (the calls that take
the member's own access token, such as AssociateSoftwareToken, need no permission of the role)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.cfn import allows, functions, role_of, statements

ROOT = Path(__file__).resolve().parents[2]


def iam_actions_of_admin_calls() -> set[str]:
    """The IAM actions of the ``admin_*`` and ``list_*`` calls in ``adapters/cognito.py``, by the SDK's own names."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("cognito-idp")
    by_method = {xform_name(name): name for name in model.operation_names}
    source = (ROOT / "chalicelib" / "adapters" / "cognito.py").read_text()
    methods = set(re.findall(r"_cognito\.(admin_\w+)\(", source)) | {"list_users"}  # list_users via a paginator
    methods.discard("admin_set_user_password")  # the local stack's demo admin only (local/seed.py), never the API
    return {f"cognito-idp:{by_method[m]}" for m in methods}


def test_the_api_may_make_every_admin_call_of_the_staff_directory(template: dict[str, Any]) -> None:
    (api,) = [name for name, f in functions(template).items() if f.get("Handler") == "app.app"]
    granted = list(statements(template, role_of(template, api)))
    actions = iam_actions_of_admin_calls()
    assert "cognito-idp:AdminSetUserMFAPreference" in actions
    missing = {a for a in actions if not any(allows(s, a) for s in granted)}
    assert missing == set()
