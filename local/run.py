"""``make run``: the whole service on this machine, in one foreground process.

Starts moto in server mode (``AWS_PORT``, default 5000), creates every resource from the one resource
list, seeds a demo clinic, serves the Chalice app threaded (``PORT``, default 8000) with the local
outbox, and runs the event side (SQS → handlers, TTL reaper). Ctrl-C stops it all.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def configure_environment(aws_port: int) -> None:
    """Point every AWS client of this process at the embedded endpoint, before chalicelib loads."""
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{aws_port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-north-1")
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
    os.environ.setdefault("STAGE", "local")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
    # moto's cognito-idp checks TOTP codes as Cognito does (against the secret it hands out, which the console's
    # QR code shows), so an authenticator app set up on the local stack signs in with its real codes.
    os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")


#: API Gateway's largest request payload; a chunked body past it is refused as API Gateway refuses it.
MAX_REQUEST_BYTES = 10 * 1024 * 1024


def quiet_handler() -> type:
    """Chalice's dev-server request handler, logging method and status but never the path, and reading a
    chunked request body as API Gateway does (Chalice's reads ``Content-Length`` only, so a client that
    streams its body, as dicomweb-client does past 1 MB, reached the service with an empty one).

    Paths carry link tokens (``/v/{token}``, ``/p/{token}``); our own request log names the route pattern.
    """
    from chalice.local import ChaliceRequestHandler

    class QuietHandler(ChaliceRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            self.log_message('"%s <path not logged>" %s', self.command, str(code))

        chunked_body: bytes | None = None

        def _handle(self) -> None:
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                try:
                    self.chunked_body = read_chunked(self.rfile, MAX_REQUEST_BYTES)
                except TooLarge:
                    return self._refuse(413, b'{"Code":"PayloadTooLarge","Message":"The body is over 10 MB"}')
                except ValueError:
                    return self._refuse(400, b'{"Code":"BadRequest","Message":"The chunked body is malformed"}')
            super()._generic_handle()

        def _refuse(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _handle  # noqa: N815 - http.server names

        def _parse_payload(self) -> tuple[dict[str, str], bytes | None]:
            if self.chunked_body is None:
                return super()._parse_payload()  # type: ignore[no-any-return]
            headers = {k: v for k, v in dict(self.headers).items() if k.lower() != "transfer-encoding"}
            headers["Content-Length"] = str(len(self.chunked_body))
            return headers, self.chunked_body or None

    return QuietHandler


class TooLarge(Exception):
    """A request body larger than API Gateway takes."""


def read_chunked(stream: Any, limit: int) -> bytes:
    """A chunked HTTP/1.1 body (RFC 9112 §7.1), trailers skipped; TooLarge past ``limit`` bytes, ValueError
    when a chunk's size is not hexadecimal."""
    parts: list[bytes] = []
    size = 0
    while True:
        line = stream.readline(1024)
        chunk = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if chunk == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        size += chunk
        if size > limit:
            raise TooLarge
        parts.append(stream.read(chunk))
        stream.readline(1024)  # the CRLF after the chunk


#: The listen backlog of the local server. Chalice's dev server keeps socketserver's default of 5, so
#: 25 parallel clients got connections reset: load tests and fuzzing of the stack were unreliable.
LISTEN_BACKLOG = 128


def crowd_server() -> type:
    """Chalice's threaded dev server with a listen backlog that takes a crowd of parallel clients."""
    from chalice.local import ThreadedHTTPServer

    class CrowdServer(ThreadedHTTPServer):
        request_queue_size = LISTEN_BACKLOG

    return CrowdServer


def main() -> int:
    """Run the local stack until interrupted."""
    aws_port = int(os.environ.get("AWS_PORT", "5000"))
    port = int(os.environ.get("PORT", "8000"))
    host = "127.0.0.1"
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
    configure_environment(aws_port)

    from chalice.config import Config
    from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer
    from moto.server import ThreadedMotoServer

    # moto's request log would drown ours; its errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address=host, port=aws_port, verbose=False)
    moto.start()

    sys.path.insert(0, str(ROOT))
    from dataclasses import replace

    from app import app
    from chalicelib import api, wiring
    from chalicelib.settings import settings
    from local import clock, events, outbox, stack
    from local.seed import seed_demo_clinic

    cfg = settings()
    stack.create_all(cfg)
    api.register_media(app)  # in AWS, the media workers run from their container image
    recorder = outbox.Recorder(cfg.region)
    recorder.listen(_default_boto3_session().events)
    local_clock = clock.ShiftableClock()
    from chalicelib.workers.delivery_events import sms_receipts

    injector = outbox.EventInjector(cfg.region, cfg.queue_name("delivery-events"), local_clock, sms_receipts)
    app.register_blueprint(outbox.blueprint(recorder, injector))
    app.register_blueprint(clock.blueprint(local_clock))
    local_deps = wiring.override(replace(wiring.build(), clock=local_clock))
    local_deps.__enter__()
    state_dir = Path(os.environ.get("LOCAL_STATE_DIR", ROOT / ".local"))
    demo = seed_demo_clinic(cfg.public_base_url, state_dir / "demo.json")

    stop = threading.Event()
    background = events.Background(app, cfg, local_clock)
    background.start()
    recorder.run_in_background(stop)
    server_config = Config.create(chalice_stage="local", lambda_timeout=900)
    # What chalice.local.create_local_server does, with our handler and server classes.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    server = LocalDevServer(app, server_config, host, port, handler_cls=quiet_handler(), server_cls=crowd_server())

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    print(
        json.dumps(
            {
                "base_url": cfg.public_base_url,
                "api_key": demo["api_key"],
                "outbox": f"{cfg.public_base_url}/_local/outbox",
                "console_url": demo["console_url"],
                "staff_email": demo["staff_email"],
                "staff_password": demo["staff_password"],
            },
            indent=2,
        ),
        flush=True,
    )
    print(
        f"patient-share is running on {cfg.public_base_url} (AWS endpoint {os.environ['AWS_ENDPOINT_URL']}); "
        "Ctrl-C stops it",
        flush=True,
    )
    try:
        server.server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("stopping…", flush=True)
    finally:
        stop.set()
        background.stop()
        server.server.server_close()
        background.join(timeout=5)
        local_deps.__exit__(None, None, None)
        moto.stop()
    return 0


def _default_boto3_session() -> Any:
    """boto3's default session, made if need be: every client ``chalicelib.adapters.aws.client`` makes is its."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


if __name__ == "__main__":
    sys.exit(main())
