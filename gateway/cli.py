"""``python -m gateway``: run the gateway, or look at / act on its spool.

    python -m gateway --ae-title PSHARE --port 11112 --api-url https://share.example.org \\
        --api-key-file /etc/patient-share/key --allow US1@192.168.1.20 [--tls-cert … --tls-key …]
    python -m gateway --status [--spool DIR]        # pending, failed, the oldest pending age (JSON)
    python -m gateway --retry-failed [--spool DIR]  # put failed/ back in the queue once the cause is fixed

The API key is read from a file only (never an argument or the environment, which other processes and
logs can see), and again for every call, so a new key needs no restart.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

DEFAULT_SPOOL = Path("/var/spool/patient-share-gateway")
MB = 1024 * 1024


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gateway",
        description="patient-share's DICOM gateway: C-STORE in, spool on disk, upload to the service.",
    )
    p.add_argument("--status", action="store_true", help="print the spool's counts as JSON and exit")
    p.add_argument("--retry-failed", action="store_true", help="move failed/ back to the upload queue and exit")
    p.add_argument("--spool", type=Path, default=DEFAULT_SPOOL, help=f"spool directory (default {DEFAULT_SPOOL})")
    p.add_argument("--ae-title", help="the gateway's AE title, which modalities call (e.g. PSHARE)")
    p.add_argument("--port", type=int, default=11112, help="DICOM port (default 11112; 0 picks a free one)")
    p.add_argument("--bind", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")  # noqa: S104
    p.add_argument("--api-url", help="patient-share's base URL (https://…; http only to this machine)")
    p.add_argument("--api-key-file", type=Path, help="file holding the clinic's API key (psk_…)")
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="AE[@ADDRESS[,ADDRESS]]",
        help="a calling AE title that may store, optionally only from these addresses (repeat for each modality)",
    )
    p.add_argument("--allow-any", action="store_true", help="accept any calling AE title (not recommended)")
    p.add_argument("--tls-cert", type=Path, help="DICOM TLS: the gateway's certificate (PEM)")
    p.add_argument("--tls-key", type=Path, help="DICOM TLS: its private key (PEM)")
    p.add_argument("--tls-client-ca", type=Path, help="DICOM TLS: require client certificates signed by this CA")
    p.add_argument("--max-spool-mb", type=int, default=20_000, help="refuse instances past this much pending")
    p.add_argument("--min-free-mb", type=int, default=1024, help="refuse instances when less is free on the disk")
    p.add_argument("--max-backoff", type=float, default=300, help="longest wait between tries, seconds")
    p.add_argument("--confirm-hours", type=float, default=24, help="fail a file the service has not indexed by then")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    from gateway.spool import Spool

    if args.status or args.retry_failed:
        if not (args.spool / "pending").is_dir():
            print(json.dumps({"error": f"no spool at {args.spool}"}), file=sys.stderr)
            return 2
        spool = Spool(args.spool, max_bytes=0, min_free_bytes=0)
        if args.retry_failed:
            print(json.dumps({"moved_to_pending": spool.retry_failed()}))
        else:
            print(json.dumps(spool.status(datetime.now(UTC)).as_dict()))
        return 0
    problem = check_run_arguments(args)
    if problem:
        p.error(problem)
    return run(args)


def check_run_arguments(args: argparse.Namespace) -> str | None:
    """Why the arguments cannot run a gateway, or None."""
    if not args.ae_title or not args.api_url or not args.api_key_file:
        return "--ae-title, --api-url and --api-key-file are required to run the gateway"
    if bool(args.allow) == bool(args.allow_any):
        return "name the modalities that may store with --allow AE[@ADDRESS] (or, knowingly, --allow-any)"
    url = urlsplit(args.api_url)
    if url.scheme not in ("https", "http") or not url.hostname:
        return "--api-url must be an http(s) URL"
    if url.scheme == "http" and not _is_loopback(url.hostname):
        return "--api-url must use https: the API key must not cross a network in clear text"
    if bool(args.tls_cert) != bool(args.tls_key):
        return "--tls-cert and --tls-key go together"
    if args.tls_client_ca and not args.tls_cert:
        return "--tls-client-ca needs --tls-cert and --tls-key"
    try:
        key = args.api_key_file.read_text().strip()
    except OSError as err:
        return f"the API key file cannot be read: {err.strerror}"
    if not key:
        return "the API key file is empty"
    if not 1 <= len(args.ae_title) <= 16:
        return "--ae-title must be 1–16 characters"
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    """Serve C-STORE and upload until SIGTERM or SIGINT."""
    from gateway.api import HttpServiceApi
    from gateway.backoff import Backoff
    from gateway.logs import JsonLog, route_library_logs
    from gateway.scp import AllowedPeer, ScpSettings, StorageScp, server_tls_context
    from gateway.sender import Sender
    from gateway.spool import Spool, SpoolLocked, incoming_dir

    log = JsonLog()
    route_library_logs(log)

    def now() -> datetime:
        return datetime.now(UTC)

    try:
        allowed = None if args.allow_any else tuple(AllowedPeer.parse(a) for a in args.allow)
        tls = server_tls_context(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None
    except (ValueError, OSError) as err:
        log.write("not_started", error=str(err))
        return 2
    spool = Spool(args.spool, max_bytes=args.max_spool_mb * MB, min_free_bytes=args.min_free_mb * MB)
    try:
        cleared = spool.prepare()
        spool.lock()
    except (OSError, SpoolLocked) as err:
        log.write("not_started", error=str(err))
        return 2
    if args.api_key_file.stat().st_mode & 0o077:
        log.write("warning", message="the API key file can be read by other users: chmod 600 it")

    settings = ScpSettings(args.ae_title, args.bind, args.port, allowed, tls)
    scp = StorageScp(settings, spool, log, now)
    sender = Sender(
        spool,
        HttpServiceApi(args.api_url, args.api_key_file),
        log,
        now,
        Backoff(cap_s=args.max_backoff),
        confirm_within=timedelta(hours=args.confirm_hours),
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with incoming_dir(spool):
        try:
            scp.start()
        except OSError as err:
            log.write("not_started", error=f"cannot listen on {args.bind}:{args.port} ({err.strerror})")
            return 2
        status = spool.status(now())
        log.write(
            "started",
            ae_title=args.ae_title,
            port=scp.port,
            tls=tls is not None,
            allowed=None if allowed is None else sorted(p.ae_title for p in allowed),
            pending=status.pending,
            failed=status.failed,
            uploads_in_flight=status.uploads_in_flight,
            incoming_cleared=cleared,
        )
        uploader = threading.Thread(target=sender.run, args=(stop,), name="sender", daemon=True)
        uploader.start()
        while not stop.wait(1):
            if not uploader.is_alive():
                log.write("sender_died")
                stop.set()
        scp.stop()
        uploader.join(timeout=30)
    spool.unlock()
    log.write("stopped", pending=spool.status(now()).pending)
    return 0
