"""The Storage SCP: every storage SOP class and Verification, the transfer syntaxes the service ingests, an
allow-list of calling AE titles (and their addresses), optional DICOM TLS.

Store before you answer (as pynetdicom's storage SCP examples and Orthanc do): pynetdicom writes each
arriving dataset straight to a file in the spool's ``incoming/`` (``STORE_RECV_CHUNKED_DATASET``: a
138 MB cine is never whole in memory), and the C-STORE handler answers Success only after that file is
fsynced and renamed into ``pending/``. A spool over its size or a disk nearly full answers 0xA700, Out
of Resources: the modality keeps the instance and sends it again later.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import socketserver
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from pynetdicom import AE, AllStoragePresentationContexts, _config, evt
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.events import Event
from pynetdicom.presentation import PresentationContext
from pynetdicom.transport import AssociationSocket, RequestHandler, ThreadedAssociationServer

from gateway.logs import JsonLog
from gateway.spool import Spool, SpoolFull, safe_uid

#: What the service ingests (what ``chalicelib.media.dicom_file.can_decode`` accepts; a unit test
#: keeps the two lists equal): uncompressed, JPEG, JPEG-LS, JPEG 2000 and HTJ2K, RLE.
TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51",  # JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless (Process 14)
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless (Process 14, SV1)
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",  # JPEG-LS Near-Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 (Lossless Only)
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.4.201",  # High-Throughput JPEG 2000 (Lossless Only)
    "1.2.840.10008.1.2.4.202",  # High-Throughput JPEG 2000 with RPCL (Lossless Only)
    "1.2.840.10008.1.2.4.203",  # High-Throughput JPEG 2000
    "1.2.840.10008.1.2.5",  # RLE Lossless
)

#: The Verification SOP Class (C-ECHO).
VERIFICATION = "1.2.840.10008.1.1"

#: C-STORE statuses (PS3.4 B.2.3).
SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
PROCESSING_FAILURE = 0x0110

#: The largest PDU we take: 1 MiB keeps each read small in memory and the per-PDU cost low.
MAX_PDU_BYTES = 1024 * 1024


@dataclass(frozen=True)
class AllowedPeer:
    """A calling AE title that may store, and the addresses it may call from (empty: any)."""

    ae_title: str
    addresses: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> AllowedPeer:
        """``US1`` or ``US1@192.168.1.20`` or ``US1@192.168.1.20,192.168.1.21``."""
        title, _, addresses = text.partition("@")
        title = title.strip()
        if not 1 <= len(title) <= 16 or "\\" in title or not title.isprintable():
            raise ValueError(f"not an AE title (1–16 characters): {title!r}")
        return cls(title, frozenset(a.strip() for a in addresses.split(",") if a.strip()))


@dataclass(frozen=True)
class ScpSettings:
    ae_title: str
    bind: str
    port: int
    #: None: any calling AE title may store (only when asked for explicitly: ``--allow-any``).
    allowed: tuple[AllowedPeer, ...] | None
    ssl_context: ssl.SSLContext | None = None
    max_pdu_bytes: int = MAX_PDU_BYTES
    #: Seconds of silence on an association before it is aborted.
    network_timeout_s: float = 60


def server_tls_context(cert: Path, key: Path, client_ca: Path | None) -> ssl.SSLContext:
    """DICOM TLS (PS3.15 B.9 profile territory): TLS 1.2 or later; with ``client_ca``, modalities must also
    show a certificate that CA signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(client_ca))
    return context


@dataclass
class _Association:
    """What one association did, for its log line."""

    id: str
    address: str
    started: float
    calling_ae: str = ""
    stored: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    bytes: int = 0
    rejected: str | None = None


class StorageScp:
    """The SCP; ``start`` serves in background threads, ``stop`` stops taking associations."""

    def __init__(self, settings: ScpSettings, spool: Spool, log: JsonLog, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.spool = spool
        self.log = log
        self.clock = clock
        self._associations: dict[Association, _Association] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def contexts(self) -> list[PresentationContext]:
        """Every storage SOP class pynetdicom knows (PS3.4 Annex B's list), and Verification."""
        classes = sorted({str(cx.abstract_syntax) for cx in AllStoragePresentationContexts})
        contexts: list[PresentationContext] = [_Context.of(uid, TRANSFER_SYNTAXES) for uid in classes]
        contexts.append(_Context.of(VERIFICATION, ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")))
        return contexts

    def start(self) -> None:
        # What the first C-STORE would otherwise import while a modality waits for its answer.
        import pydicom.filewriter  # noqa: F401

        # Received datasets go to a file, never to memory (read by pynetdicom when the dataset arrives).
        _config.STORE_RECV_CHUNKED_DATASET = True
        _config.LOG_REQUEST_IDENTIFIERS = False
        # pynetdicom's standard handlers log every PDU and DIMSE message at DEBUG/INFO, which our logging
        # drops (pynetdicom's WARNING and up only): bound, they still cost an event per PDU.
        _config.LOG_HANDLER_LEVEL = "none"
        ae = AE(ae_title=self.settings.ae_title)
        ae.maximum_pdu_size = self.settings.max_pdu_bytes
        ae.network_timeout = self.settings.network_timeout_s
        ae.acse_timeout = 30
        ae.dimse_timeout = 120
        ae.maximum_associations = 16
        ae.require_called_aet = True
        server = ae.make_server(
            (self.settings.bind, self.settings.port),
            contexts=self.contexts(),
            evt_handlers=[(evt.EVT_REQUESTED, self._on_requested), (evt.EVT_C_STORE, self._on_store)],
            server_class=_Server,
            request_handler=_Handler,
        )
        assert isinstance(server, _Server)
        server.gateway = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()

    def stop(self, grace_s: float = 10) -> None:
        """Take no new associations; give running ones ``grace_s`` to finish (an instance not yet answered
        is still the modality's, and it sends it again)."""
        if self._server is None:
            return
        self._server.shutdown()
        # Polled rather than joined with a timeout: threads are daemons, and a timed join never times out
        # under a shifted clock (libfaketime, which the unit suite runs under).
        deadline = time.monotonic() + grace_s
        while any(a.is_alive() for a in list(self._associations)) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._server = None

    # ---------------------------------------------------------------------------------------------- policy

    def address_allowed(self, address: str) -> bool:
        """Checked when the connection is accepted, before a byte of it is read."""
        allowed = self.settings.allowed
        if allowed is None or any(not peer.addresses for peer in allowed):
            return True
        return any(address in peer.addresses for peer in allowed)

    def peer_allowed(self, calling_ae: str, address: str) -> bool:
        allowed = self.settings.allowed
        if allowed is None:
            return True
        return any(
            peer.ae_title == calling_ae and (not peer.addresses or address in peer.addresses) for peer in allowed
        )

    # ---------------------------------------------------------------------------------------------- events

    def _on_requested(self, event: Event) -> None:
        record = self._record(event.assoc)
        primitive = event.assoc.requestor.primitive
        record.calling_ae = str(getattr(primitive, "calling_ae_title", "")).strip()
        if not self.peer_allowed(record.calling_ae, record.address):
            record.rejected = "calling AE title not allowed"
            # Rejected permanent, by the service user: calling AE title not recognised.
            event.assoc.acse.send_reject(0x01, 0x01, 0x03)
            # The DUL thread sends it; pynetdicom shuts the socket as soon as this handler returns, so
            # wait (briefly) until the state machine has sent it (Sta13: waiting for the peer to close).
            deadline = time.monotonic() + 2
            while event.assoc.dul.state_machine.current_state not in ("Sta13", "Sta1"):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)

    def _on_store(self, event: Event) -> int:
        record = self._record(event.assoc)
        request = event.request
        assert isinstance(request, C_STORE)
        uid = safe_uid(str(request.AffectedSOPInstanceUID or ""))
        try:
            path = event.dataset_path
            size = path.stat().st_size
            self.spool.accept(path, uid, self.clock())
        except SpoolFull as full:
            record.refused.append(uid)
            self.log.write("spool_full", association=record.id, sop_instance_uid=uid, reason=full.reason)
            return OUT_OF_RESOURCES
        except OSError as err:
            record.refused.append(uid)
            self.log.write("spool_error", association=record.id, sop_instance_uid=uid, error=errno.errorcode.get(
                err.errno or 0, type(err).__name__))  # fmt: skip
            return OUT_OF_RESOURCES if err.errno in (errno.ENOSPC, errno.EDQUOT) else PROCESSING_FAILURE
        record.stored.append(uid)
        record.bytes += size
        return SUCCESS

    # ---------------------------------------------------------------------------------------------- records

    def begin(self, assoc: Association, address: str) -> None:
        with self._lock:
            self._associations[assoc] = _Association(uuid.uuid4().hex[:12], address, time.monotonic())

    def _record(self, assoc: Association) -> _Association:
        with self._lock:
            return self._associations.setdefault(assoc, _Association(uuid.uuid4().hex[:12], "", time.monotonic()))

    def end(self, assoc: Association) -> None:
        """One JSON line per association: who called, what was stored or refused (SOP Instance UIDs)."""
        with self._lock:
            record = self._associations.pop(assoc, None)
            if not self._associations:
                # No association is receiving (a new one registers under this lock before it reads): what
                # is left in incoming/ was never acknowledged (an aborted association's partial dataset).
                self.spool.clear_incoming()
        if record is None:
            return
        outcome = (
            "rejected"
            if record.rejected or assoc.is_rejected
            else "released"
            if assoc.is_released
            else "aborted"
            if assoc.is_aborted
            else "closed"
        )
        fields: dict[str, Any] = {
            "association": record.id,
            "calling_ae": record.calling_ae,
            "address": record.address,
            "tls": self.settings.ssl_context is not None,
            "outcome": outcome,
            "stored": len(record.stored),
            "refused": len(record.refused),
            "bytes": record.bytes,
            "seconds": round(time.monotonic() - record.started, 3),
            "sop_instance_uids": record.stored,
        }
        if record.refused:
            fields["refused_sop_instance_uids"] = record.refused
        if record.rejected:
            fields["reason"] = record.rejected
        self.log.write("association", **fields)

    def refused_connection(self, address: str, reason: str) -> None:
        self.log.write(
            "association", association=uuid.uuid4().hex[:12], address=address, outcome="refused", reason=reason
        )


class _Context(PresentationContext):
    """A presentation context that is quick to copy. pynetdicom deep-copies the acceptor's contexts for each
    association: for ours (171 SOP classes, 2,722 transfer syntaxes) that took about 30 ms before the
    modality was answered, per association, and many ultrasound machines open one per image. Its UIDs are
    immutable strings, so a copy needs only new lists."""

    @classmethod
    def of(cls, abstract_syntax: str, transfer_syntaxes: tuple[str, ...]) -> _Context:
        context = cls()
        context.abstract_syntax = abstract_syntax
        context.transfer_syntax = list(transfer_syntaxes)
        return context

    def __deepcopy__(self, memo: dict[int, Any]) -> _Context:
        copied = type(self).__new__(type(self))
        copied.__dict__.update({k: list(v) if isinstance(v, list) else v for k, v in vars(self).items()})
        return copied


class _Server(ThreadedAssociationServer):
    """pynetdicom's threaded server, with the address allow-list checked at accept and the TLS handshake
    done in each connection's own thread (a silent client cannot hold up the accept loop)."""

    gateway: StorageScp
    daemon_threads = True
    block_on_close = False

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        assert self.socket is not None
        client, address = self.socket.accept()
        return client, address

    def shutdown(self) -> None:
        # pynetdicom's own shutdown also unregisters the server from ``ae.start_server``'s list, which a
        # server made by ``make_server`` was never on.
        socketserver.BaseServer.shutdown(self)
        self.server_close()

    def verify_request(self, request: Any, client_address: Any) -> bool:
        address = str(client_address[0])
        if self.gateway.address_allowed(address):
            return True
        self.gateway.refused_connection(address, "address not allowed")
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        error = sys.exc_info()[0]
        self.gateway.refused_connection(
            str(client_address[0]), f"connection failed ({error.__name__ if error else 'unknown'})"
        )


class _Handler(RequestHandler):
    """One connection: TLS handshake (when configured), then the association, then its log line."""

    server: _Server

    def setup(self) -> None:
        gateway = self.server.gateway
        context = gateway.settings.ssl_context
        if context is not None:
            raw: socket.socket = self.request
            raw.settimeout(gateway.settings.network_timeout_s)
            tls = context.wrap_socket(raw, server_side=True)
            tls.settimeout(None)
            self.request = tls

    def handle(self) -> None:
        gateway = self.server.gateway
        assoc = self._create_association()
        sock = assoc.dul.socket
        assert sock is not None
        # Same socket, our reading (a subclass adding no state): see ``_BoundedSocket``.
        sock.__class__ = _BoundedSocket
        if sock.socket is not None:
            # Our answers are single small PDUs, each sent whole: nothing to gain from Nagle's delay.
            with contextlib.suppress(OSError):
                sock.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cast(_BoundedSocket, sock).pdu_limit = gateway.settings.max_pdu_bytes + PDU_SLACK_BYTES
        gateway.begin(assoc, str(self.client_address[0]))
        evt.trigger(assoc, evt.EVT_CONN_OPEN, {"address": self.client_address})
        assoc.start()
        assoc.join()
        gateway.end(assoc)


#: Room above our maximum PDU length for the PDV headers a peer counts differently, and for an
#: A-ASSOCIATE-RQ proposing every storage class.
PDU_SLACK_BYTES = 256 * 1024


class _BoundedSocket(AssociationSocket):
    """pynetdicom's association socket, reading a PDU into one buffer of its announced length (pynetdicom
    reads 4 KiB at a time: a third of the receiving time for a cine), and refusing a PDU longer than the
    maximum we announced, which a peer may not send: it would otherwise make us buffer whatever length it
    claims. The refusal closes the connection (pynetdicom treats it as the connection lost)."""

    pdu_limit: int

    def recv(self, nr_bytes: int) -> bytearray:
        if nr_bytes > self.pdu_limit:
            raise OSError(errno.EMSGSIZE, "the peer sent a PDU longer than the maximum it was told")
        assert self.socket is not None
        buffer = bytearray(nr_bytes)
        with memoryview(buffer) as view:
            received = 0
            while received < nr_bytes:
                count = self.socket.recv_into(view[received:])
                if count == 0:
                    break
                received += count
        if received < nr_bytes:
            del buffer[received:]
        if _QUICKACK is not None:
            # Acknowledge at once what was read, rather than up to 40 ms later with the next answer: a sender
            # with Nagle's algorithm on (DCMTK's default since 3.6.2) holds the small tail of a PDU until its
            # earlier bytes are acknowledged. Linux clears the flag as it goes, so it is set again.
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return buffer


#: Linux's TCP_QUICKACK (None elsewhere).
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
