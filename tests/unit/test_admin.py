from __future__ import annotations

import json

import pytest

from chalicelib import admin
from chalicelib.domain.keys import KeyStage
from chalicelib.domain.staff import Challenge
from chalicelib.services import accounts
from chalicelib.services.deps import Deps


def run(capsys: pytest.CaptureFixture[str], deps: Deps, *argv: str) -> tuple[int, dict[str, object]]:
    code = admin.main(list(argv), deps)
    captured = capsys.readouterr()
    return code, json.loads(captured.out if code == 0 else captured.err)


def test_create_clinic_key_and_revoke(capsys: pytest.CaptureFixture[str], deps: Deps) -> None:
    code, clinic = run(capsys, deps, "create-clinic", "Kliniken Mitt")
    assert code == 0
    assert clinic["name"] == "Kliniken Mitt"
    assert accounts.authenticate(f"Bearer {clinic['api_key']}", deps).clinic_id == clinic["clinic_id"]

    code, second = run(capsys, deps, "create-key", str(clinic["clinic_id"]))
    assert code == 0
    assert second["api_key"] != clinic["api_key"]

    code, revoked = run(capsys, deps, "revoke-key", str(clinic["key_id"]))
    assert code == 0
    assert revoked == {"key_id": clinic["key_id"], "revoked": True}


def test_errors_are_json_on_stderr_with_a_non_zero_exit(capsys: pytest.CaptureFixture[str], deps: Deps) -> None:
    code, error = run(capsys, deps, "create-key", "cl_0000000000000000")
    assert code == 1
    assert error == {"error": "NotFound", "message": "No such clinic"}
    code, error = run(capsys, deps, "create-clinic", "  ")
    assert code == 1
    assert error["error"] == "InvalidInput"


def test_rotate_secret_makes_a_new_current_key_and_keeps_the_old_one_verifying(
    capsys: pytest.CaptureFixture[str], deps: Deps
) -> None:
    before = deps.keys.key_ring()
    code, rotated = run(capsys, deps, "rotate-secret")
    assert code == 0
    assert rotated["rotated"] is True
    assert deps.keys.stages(str(rotated["version"])) == {KeyStage.CURRENT}
    after = deps.keys.key_ring(refresh=True)
    assert after.current != before.current
    assert after.previous == before.current
    printed = json.dumps(rotated)
    assert after.current.decode() not in printed  # the key itself is never printed
    assert before.current.decode() not in printed


def test_staff_commands_invite_list_disable_and_enable(capsys: pytest.CaptureFixture[str], deps: Deps) -> None:
    _, clinic = run(capsys, deps, "create-clinic", "Kliniken Mitt")
    _, other = run(capsys, deps, "create-clinic", "Kliniken Syd")
    clinic_id, other_id = str(clinic["clinic_id"]), str(other["clinic_id"])

    code, invited = run(capsys, deps, "create-staff", clinic_id, " Anna@Klinik.Example ", "--role", "admin")
    assert code == 0
    assert invited["email"] == "anna@klinik.example"
    assert (invited["role"], invited["enabled"], invited["status"]) == ("admin", True, "FORCE_CHANGE_PASSWORD")
    assert deps.staff.invitations == ["anna@klinik.example"]  # the fake records invitations
    args = (
        "create-staff",
        other_id,
        "bo@syd.example",
        "--role",
        "clinician",
        "--temporary-password",
        "Temporary-Pass-1",
    )
    run(capsys, deps, *args)
    assert deps.staff.invitations == ["anna@klinik.example"]  # a password given: no invitation is sent
    # It signs in with that password, and must change it at once.
    assert isinstance(deps.staff.sign_in("bo@syd.example", "Temporary-Pass-1"), Challenge)

    code, listed = run(capsys, deps, "list-staff", clinic_id)
    assert code == 0
    assert listed == {"clinic_id": clinic_id, "staff": [invited]}

    code, disabled = run(capsys, deps, "disable-staff", clinic_id, "anna@klinik.example")
    assert (code, disabled["enabled"]) == (0, False)
    assert deps.staff.get(str(invited["staff_id"])).enabled is False
    code, enabled = run(capsys, deps, "enable-staff", clinic_id, "anna@klinik.example")
    assert (code, enabled["enabled"]) == (0, True)

    # One clinic's command never reaches another clinic's staff.
    code, error = run(capsys, deps, "disable-staff", clinic_id, "bo@syd.example")
    assert (code, error["error"]) == (1, "NotFound")
    assert deps.staff.members(other_id)[0].enabled is True


def test_staff_commands_refuse_unknown_clinics_taken_addresses_and_roles(
    capsys: pytest.CaptureFixture[str], deps: Deps
) -> None:
    code, error = run(capsys, deps, "create-staff", "cl_0000000000000000", "anna@klinik.example", "--role", "admin")
    assert (code, error["error"]) == (1, "NotFound")
    _, clinic = run(capsys, deps, "create-clinic", "Kliniken Mitt")
    run(capsys, deps, "create-staff", str(clinic["clinic_id"]), "anna@klinik.example", "--role", "admin")
    code, error = run(capsys, deps, "create-staff", str(clinic["clinic_id"]), "ANNA@klinik.example", "--role", "admin")
    assert (code, error["error"]) == (1, "Conflict")
    code, error = run(capsys, deps, "create-staff", str(clinic["clinic_id"]), "not-an-address", "--role", "admin")
    assert (code, error["error"]) == (1, "InvalidInput")
    with pytest.raises(SystemExit):
        admin.main(["create-staff", str(clinic["clinic_id"]), "cilla@klinik.example", "--role", "owner"], deps)


def test_errors_that_only_word_a_refusal_finely_keep_their_parents_code_for_programs() -> None:
    """The API's ``Code`` and the admin command's ``error`` stay what integrations already match on."""
    from chalicelib.domain.accounts import InvalidLinkCode
    from chalicelib.domain.staff import StaffExists

    assert InvalidLinkCode("too short").error_code == "InvalidInput"
    assert StaffExists("taken").error_code == "Conflict"
