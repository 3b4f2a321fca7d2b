"""Operators' command line: ``python -m chalicelib.admin create-clinic NAME``, ``create-staff``, ``rotate-secret``
and friends.

It talks to whatever AWS the environment names (``AWS_ENDPOINT_URL`` for the local stack, the usual
credentials for a real account) and prints JSON. The plain-text API key is printed once, here, and
never stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from chalicelib.domain.errors import DomainError
from chalicelib.domain.staff import Role, StaffMember
from chalicelib.services import accounts, keys, staff
from chalicelib.services.deps import Deps


def main(argv: Sequence[str] | None = None, deps: Deps | None = None) -> int:
    """Run one admin command; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create_clinic = commands.add_parser("create-clinic", help="create a clinic and its first API key")
    create_clinic.add_argument("name")
    create_key = commands.add_parser("create-key", help="issue another API key for a clinic")
    create_key.add_argument("clinic_id")
    revoke_key = commands.add_parser("revoke-key", help="revoke an API key at once")
    revoke_key.add_argument("key_id")
    commands.add_parser(
        "rotate-secret", help="rotate the signing key now (the previous one still verifies until the next rotation)"
    )
    create_staff = commands.add_parser(
        "create-staff", help="invite a staff member to the console (Cognito e-mails a temporary password)"
    )
    create_staff.add_argument("clinic_id")
    create_staff.add_argument("email")
    create_staff.add_argument("--role", required=True, choices=[r.value for r in Role])
    create_staff.add_argument(
        "--temporary-password",
        help="set it instead of having Cognito e-mail one (the local stack sends no invitation); "
        "you then hand it over yourself",
    )
    list_staff = commands.add_parser("list-staff", help="a clinic's staff, with their role and whether enabled")
    list_staff.add_argument("clinic_id")
    for name, action in (("disable-staff", "disable (ends their sessions)"), ("enable-staff", "re-enable")):
        toggle = commands.add_parser(name, help=f"{action} a clinic's staff member")
        toggle.add_argument("clinic_id")
        toggle.add_argument("email")
    args = parser.parse_args(argv)

    if deps is None:
        from chalicelib.wiring import deps as wired

        deps = wired()
    try:
        result = _run(args, deps)
    except DomainError as err:
        print(json.dumps({"error": err.error_code, "message": err.message}), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def _run(args: argparse.Namespace, deps: Deps) -> dict[str, Any]:
    if args.command == "create-clinic":
        clinic, issued = accounts.create_clinic(args.name, deps)
        return {
            "clinic_id": clinic.clinic_id,
            "name": clinic.name,
            "key_id": issued.key.key_id,
            "api_key": issued.plain_text,
        }
    if args.command == "create-key":
        issued = accounts.create_key(args.clinic_id, deps)
        return {"clinic_id": issued.key.clinic_id, "key_id": issued.key.key_id, "api_key": issued.plain_text}
    if args.command == "create-staff":
        invited = staff.invite(args.clinic_id, args.email, Role(args.role), deps, args.temporary_password)
        return _staff_view(invited)
    if args.command == "list-staff":
        return {"clinic_id": args.clinic_id, "staff": [_staff_view(m) for m in staff.members(args.clinic_id, deps)]}
    if args.command in {"disable-staff", "enable-staff"}:
        member = staff.find(args.clinic_id, args.email, deps)
        return _staff_view(staff.set_enabled(args.clinic_id, member.staff_id, args.command == "enable-staff", deps))
    if args.command == "rotate-secret":
        return {"rotated": True, "version": keys.rotate_now(deps)}
    accounts.revoke_key(args.key_id, deps)
    return {"key_id": args.key_id, "revoked": True}


def _staff_view(member: StaffMember) -> dict[str, Any]:
    return {
        "staff_id": member.staff_id,
        "email": member.email,
        "clinic_id": member.clinic_id,
        "role": member.role.value,
        "enabled": member.enabled,
        "status": member.status,
    }


if __name__ == "__main__":
    sys.exit(main())
