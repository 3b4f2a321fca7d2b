"""The Storage SCP, in this process on 127.0.0.1, driven by pynetdicom's SCU: what it accepts, whom it
accepts it from, that it answers Success only with the file in the spool and Out of Resources when it
cannot keep it, and that a large dataset is streamed to disk."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import socket
import ssl
import struct
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import AllTransferSyntaxes, SecondaryCaptureImageStorage
from pynetdicom import AE, AllStoragePresentationContexts, _config
from pynetdicom.sop_class import CTImageStorage

from chalicelib.media.dicom_file import can_decode
from gateway.logs import JsonLog
from gateway.scp import (
    OUT_OF_RESOURCES,
    TRANSFER_SYNTAXES,
    VERIFICATION,
    AllowedPeer,
    ScpSettings,
    StorageScp,
    server_tls_context,
)
from gateway.spool import Spool, incoming_dir, sop_instance_uid_of
from tests import dicom_files, patient_data

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
#: Real compressed files from pydicom's wheel: JPEG baseline, 12-bit JPEG, JPEG-LS, JPEG 2000, RLE.
COMPRESSED = ("SC_rgb_jpeg_dcmtk.dcm", "JPGExtended.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm",
              "MR_small_RLE.dcm")  # fmt: skip


class Gateway:
    def __init__(self, root: Path, settings: ScpSettings, **spool_args: int) -> None:
        self.free = spool_args.pop("free", 10**12)
        self.spool = Spool(root, max_bytes=spool_args.get("max_bytes", 10**10), min_free_bytes=10**6,
                           disk_free=lambda _: self.free)  # fmt: skip
        self.spool.prepare()
        self.log = io.StringIO()
        self.scp = StorageScp(settings, self.spool, JsonLog(self.log), lambda: NOW)

    def lines(self, at_least: int = 0) -> list[dict[str, object]]:
        """The log lines so far, waiting (10 s at most) for ``at_least`` of them: an association's line is
        written when its thread ends, just after the SCU has its answer."""
        deadline = time.monotonic() + 10
        while len(self.log.getvalue().splitlines()) < at_least and time.monotonic() < deadline:
            time.sleep(0.02)
        return [json.loads(line) for line in self.log.getvalue().splitlines()]


@pytest.fixture
def run_gateway(tmp_path: Path) -> Iterator[object]:
    started: list[Gateway] = []
    with contextlib.ExitStack() as cleanup:

        def start(allowed: tuple[AllowedPeer, ...] | None = (AllowedPeer("US1"),), **kw: object) -> Gateway:
            assert not started, "one gateway a test: pynetdicom's temporary files go to its incoming/"
            tls = kw.pop("tls", None)
            settings = ScpSettings("PSHARE", "127.0.0.1", 0, allowed, tls)  # type: ignore[arg-type]
            gateway = Gateway(tmp_path / "spool", settings, **kw)  # type: ignore[arg-type]
            cleanup.enter_context(incoming_dir(gateway.spool))
            gateway.scp.start()
            started.append(gateway)
            return gateway

        yield start
        for gateway in started:
            gateway.scp.stop(grace_s=1)
    _config.STORE_RECV_CHUNKED_DATASET = False


def scu(*contexts: tuple[str, list[str]], title: str = "US1") -> AE:
    ae = AE(ae_title=title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    for uid, syntaxes in contexts:
        ae.add_requested_context(uid, syntaxes)
    return ae


def test_the_scp_takes_the_transfer_syntaxes_the_service_ingests_for_every_storage_class() -> None:
    ingested = {uid for uid in AllTransferSyntaxes if can_decode(uid)}  # what ingest accepts with pixel data
    assert set(TRANSFER_SYNTAXES) == ingested
    scp = StorageScp(ScpSettings("PSHARE", "127.0.0.1", 0, None), None, JsonLog(io.StringIO()), lambda: NOW)  # type: ignore[arg-type]
    offered = {str(cx.abstract_syntax): set(cx.transfer_syntax) for cx in scp.contexts()}
    storage = {str(cx.abstract_syntax) for cx in AllStoragePresentationContexts}
    assert len(storage) > 100
    assert storage <= set(offered)
    assert all(offered[uid] == set(TRANSFER_SYNTAXES) for uid in storage)
    assert VERIFICATION in offered


def test_each_association_gets_its_own_copy_of_the_contexts_without_copying_every_uid() -> None:
    """pynetdicom deep-copies the acceptor's contexts for each association: a copy must be independent where
    negotiation writes (the lists, the result and roles), and cheap (UIDs are immutable, so shared)."""
    import copy

    scp = StorageScp(ScpSettings("PSHARE", "127.0.0.1", 0, None), None, JsonLog(io.StringIO()), lambda: NOW)  # type: ignore[arg-type]
    contexts = scp.contexts()
    copied = copy.deepcopy(contexts)
    assert [(str(c.abstract_syntax), c.transfer_syntax) for c in copied] == [
        (str(c.abstract_syntax), c.transfer_syntax) for c in contexts
    ]
    copied[0].transfer_syntax.clear()
    copied[0].context_id, copied[0].result = 1, 0
    copied[0].scp_role = True
    assert contexts[0].transfer_syntax == list(TRANSFER_SYNTAXES)
    assert (contexts[0].context_id, contexts[0].result, contexts[0].scp_role) == (None, None, None)
    assert copied[1].abstract_syntax is contexts[1].abstract_syntax  # shared, not copied
    assert sum(len(c.transfer_syntax) for c in contexts) > 2000  # what made the old deep copy take ~30 ms


def test_echo_and_compressed_instances_are_kept_byte_for_byte_in_their_own_syntax(run_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway = run_gateway()
    files = [Path(str(get_testdata_file(name))) for name in COMPRESSED]
    datasets = [dcmread(f) for f in files]
    for ds in datasets:  # one association each: two of them are MR Image Storage in different syntaxes
        ae = scu((str(ds.SOPClassUID), [str(ds.file_meta.TransferSyntaxUID)]), (VERIFICATION, ["1.2.840.10008.1.2"]))
        assoc = ae.associate("127.0.0.1", gateway.scp.port, ae_title="PSHARE")
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        assert assoc.send_c_store(ds).Status == 0
        assoc.release()

    # Two of pydicom's files are one MR image in two syntaxes (one SOP Instance UID): both are kept.
    sent = {(str(ds.SOPInstanceUID), str(ds.file_meta.TransferSyntaxUID)): ds for ds in datasets}
    kept = {}
    for name in gateway.spool.pending():
        stored = dcmread(gateway.spool.pending_path(name))
        kept[(sop_instance_uid_of(name), str(stored.file_meta.TransferSyntaxUID))] = stored
    assert set(kept) == set(sent)
    for key, stored in kept.items():
        assert stored.SOPInstanceUID == sent[key].SOPInstanceUID
        assert stored.SOPClassUID == sent[key].SOPClassUID
        assert stored.PixelData == sent[key].PixelData
    assert list(gateway.spool.incoming.iterdir()) == []
    lines = gateway.lines(at_least=len(COMPRESSED))
    assert [line["event"] for line in lines] == ["association"] * len(COMPRESSED)
    assert {line["calling_ae"] for line in lines} == {"US1"}
    assert {line["outcome"] for line in lines} == {"released"}
    assert sorted(uid for line in lines for uid in line["sop_instance_uids"]) == sorted(u for u, _ in kept)  # type: ignore[attr-defined]


def test_a_calling_ae_title_off_the_list_is_rejected_and_stores_nothing(run_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway = run_gateway(allowed=(AllowedPeer("US1"), AllowedPeer("PACS")))
    ae = scu((CTImageStorage, ["1.2.840.10008.1.2.1"]), title="INTRUDER")
    assoc = ae.associate("127.0.0.1", gateway.scp.port, ae_title="PSHARE")
    assert assoc.is_rejected
    [line] = gateway.lines(at_least=1)
    assert line["outcome"] == "rejected"
    assert line["calling_ae"] == "INTRUDER"
    assert gateway.spool.pending() == []


def test_an_allowed_title_from_another_address_never_gets_an_association(run_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway = run_gateway(allowed=(AllowedPeer.parse("US1@192.0.2.10"),))
    assoc = scu((CTImageStorage, ["1.2.840.10008.1.2.1"])).associate("127.0.0.1", gateway.scp.port, ae_title="PSHARE")
    assert not assoc.is_established
    assert gateway.lines()[0]["outcome"] == "refused"
    assert gateway.lines()[0]["reason"] == "address not allowed"
    assert AllowedPeer.parse("US1@10.0.0.5, 10.0.0.6") == AllowedPeer("US1", frozenset({"10.0.0.5", "10.0.0.6"}))
    with pytest.raises(ValueError, match="AE title"):
        AllowedPeer.parse("A-TITLE-THAT-IS-TOO-LONG")


def test_a_full_spool_answers_out_of_resources_and_keeps_nothing_it_cannot(run_gateway) -> None:  # type: ignore[no-untyped-def]
    first = dicom_files.instance(rows=64, columns=64)
    gateway = run_gateway(max_bytes=len(first) + 100)
    ae = scu((SecondaryCaptureImageStorage, ["1.2.840.10008.1.2.1"]))
    assoc = ae.associate("127.0.0.1", gateway.scp.port, ae_title="PSHARE")
    assert assoc.send_c_store(dcmread(io.BytesIO(first))).Status == 0
    second = dcmread(io.BytesIO(dicom_files.instance(rows=64, columns=64)))
    assert assoc.send_c_store(second).Status == OUT_OF_RESOURCES
    gateway.free = 10**5  # below the 1 MB the disk must keep free
    gateway.spool.max_bytes = 10**10
    assert assoc.send_c_store(second).Status == OUT_OF_RESOURCES
    gateway.free = 10**12
    assert assoc.send_c_store(second).Status == 0, "the modality's retry is taken once there is room"
    assoc.release()
    assert sorted(sop_instance_uid_of(n) for n in gateway.spool.pending()) == sorted(
        [dcmread(io.BytesIO(first)).SOPInstanceUID, second.SOPInstanceUID]
    )
    assert list(gateway.spool.incoming.iterdir()) == []
    assert [line["reason"] for line in gateway.lines() if line["event"] == "spool_full"] == [
        "the spool is over its configured size",
        "the disk is nearly full",
    ]


def test_a_large_cine_is_streamed_to_disk_not_held_in_memory(run_gateway, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gateway = run_gateway()
    cine = tmp_path / "cine.dcm"
    cine.write_bytes(dicom_files.instance(frames=60, rows=240, columns=320))  # 13.8 MB
    tracemalloc.start()  # this process is the SCP only: the SCU runs in its own
    try:
        sent = subprocess.run([sys.executable, "-c", SEND_STREAMED, str(gateway.scp.port), str(cine)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent.stdout.strip() == "0x0", sent.stderr[-2000:]
    assert peak < 5 * 1024 * 1024, f"{peak / 1e6:.1f} MB for a 13.8 MB dataset"
    [kept] = gateway.spool.pending()
    assert dcmread(gateway.spool.pending_path(kept)).PixelData == dcmread(cine).PixelData


SEND_STREAMED = """
import sys
from pynetdicom import AE, _config
_config.STORE_SEND_CHUNKED_DATASET = True
ae = AE(ae_title="US1")
ae.add_requested_context("1.2.840.10008.5.1.4.1.1.3.1", ["1.2.840.10008.1.2.1"])
assoc = ae.associate("127.0.0.1", int(sys.argv[1]), ae_title="PSHARE")
print(hex(assoc.send_c_store(sys.argv[2]).Status))
assoc.release()
"""


def test_a_dataset_cut_off_mid_transfer_is_neither_acknowledged_nor_left_behind(run_gateway, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gateway = run_gateway()
    cine = tmp_path / "cine.dcm"
    cine.write_bytes(dicom_files.instance(frames=60, rows=240, columns=320))
    sender = subprocess.Popen([sys.executable, "-c", SEND_STREAMED, str(gateway.scp.port), str(cine)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:

        def partly_received() -> bool:
            return any(p.stat().st_size > 2_000_000 for p in gateway.spool.incoming.glob("*.dcm"))

        deadline = time.monotonic() + 30
        while not partly_received() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert partly_received(), "the transfer was under way"
    finally:
        sender.kill()  # the modality dies mid-transfer
        sender.communicate(timeout=10)
    [line] = gateway.lines(at_least=1)
    assert line["outcome"] in ("aborted", "closed")
    assert line["stored"] == 0
    assert gateway.spool.pending() == []
    assert list(gateway.spool.incoming.iterdir()) == []


def test_a_pdu_longer_than_announced_closes_the_connection_before_it_is_buffered(run_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway = run_gateway()
    with socket.create_connection(("127.0.0.1", gateway.scp.port), timeout=10) as raw:
        raw.sendall(struct.pack(">BBL", 0x01, 0, 2**31))  # an A-ASSOCIATE-RQ "of 2 GB"
        raw.sendall(b"\0" * 65536)
        deadline = time.monotonic() + 10
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                closed = raw.recv(65536) == b""
            except ConnectionResetError:
                closed = True
    assert closed


def test_dicom_tls_stores_over_tls_and_refuses_a_plain_connection(run_gateway, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert, key = self_signed(tmp_path)
    gateway = run_gateway(tls=server_tls_context(cert, key, None))
    client = ssl.create_default_context(cafile=str(cert))
    ae = scu((SecondaryCaptureImageStorage, ["1.2.840.10008.1.2.1"]))
    assoc = ae.associate("127.0.0.1", gateway.scp.port, ae_title="PSHARE", tls_args=(client, "localhost"))
    assert assoc.is_established
    assert assoc.send_c_store(dcmread(io.BytesIO(dicom_files.instance()))).Status == 0
    assoc.release()

    plain = ae.associate("127.0.0.1", gateway.scp.port, ae_title="PSHARE")
    assert not plain.is_established
    assert len(gateway.spool.pending()) == 1
    lines = gateway.lines(at_least=2)
    assert any(line.get("tls") is True and line["outcome"] == "released" for line in lines)
    assert patient_data.leaked(gateway.log.getvalue()) == []


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "gateway.crt", folder / "gateway.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
