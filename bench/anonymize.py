"""Benchmark of the anonymization engine against a plain copy, pydicom's floor and the open-source peers.

    python bench/anonymize.py [--runs N]

Generates, in a temporary folder, the files the share worker meets most: a 640x480 RGB ultrasound image, a
150-frame 640x480 RGB ultrasound cine (138 MB) and a 512x512 16-bit CT slice, each with a realistic
identifying header (names, IDs, dates, institution, nested sequences, private tags). The ultrasound files
say Burned In Annotation NO and carry no regions, so their pixels need no cleaning; two more files with
regions and Burned In Annotation YES measure the cleaning path.

For every file and contender:

- time: warm, in this process, the median (and best) of ``--runs`` runs, output written to disk each time;
- memory: in a fresh subprocess per measurement, after importing what the contender needs and warming up
  on a small file, the growth of the peak resident set size (VmHWM, reset through /proc/self/clear_refs,
  Linux) over that warm baseline while processing the file once, the process's peak RSS, and, in a
  second pass, the peak of Python allocations (tracemalloc, which numpy reports to).
  The RSS growth is the honest figure for "memory needed to process this file": it includes buffers of C
  libraries that tracemalloc cannot see, and excludes the interpreter and libraries every contender pays.

Contenders: ``copy`` (shutil.copyfile, the kernel copies), ``pydicom`` (dcmread + save_as with no change:
the floor for any pydicom-based tool), ``ours`` (anonymize_file, full Basic Profile + PATIENT_SHARE_OPTIONS),
and the peers ``dicognito``, ``deid`` and ``dicom-anonymizer`` when installed (they are not dependencies of
the service: ``pip install dicognito deid dicom-anonymizer`` to compare).

Compressed in, compressed out: the compressed files shipped with pydicom and pydicom-data (a JPEG Baseline
cine, RLE, JPEG-LS and JPEG 2000), and two made here from a shipped palette ultrasound with regions, in
JPEG-LS and JPEG 2000 lossless, so that every family goes through the cleaning path. For each: what the
engine did (cleaned, copied or refused), the output's size over the input's (goal: at most 1.2) and its
time over a plain copy of the same file.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY = bytes(range(32))
FILES = ("us-single", "ct-slice", "us-cine")
CLEANING_FILES = ("us-single-regions", "us-cine-regions")
#: name → file shipped with pydicom or pydicom-data
COMPRESSED_FILES = {
    "jpeg-baseline-cine": "color3d_jpeg_baseline.dcm",
    "rle-us": "OBXXXX1A_rle.dcm",
    "jpeg-ls": "emri_small_jpeg_ls_lossless.dcm",
    "jpeg-2000-us": "US1_J2KR.dcm",
}
#: name → transfer syntax the shipped native ultrasound with regions (OBXXXX1A.dcm) is compressed to
DERIVED_FILES = {"jpeg-ls-us (made)": "1.2.840.10008.1.2.4.80", "jpeg-2000-us (made)": "1.2.840.10008.1.2.4.90"}
SIZE_GOAL = 1.2
PEERS = {"dicognito": "dicognito", "deid": "deid", "dicom-anonymizer": "dicomanonymizer"}
Contender = Callable[[Path, Path], None]


# --- the files -------------------------------------------------------------------------------------------


def generate(folder: Path) -> dict[str, Path]:
    """Write the benchmark files into ``folder``."""
    files = {}
    for name, frames, regions in (
        ("us-single", 1, False),
        ("us-cine", 150, False),
        ("us-single-regions", 1, True),
        ("us-cine-regions", 150, True),
    ):
        pixels = np.empty((frames, 480, 640, 3), dtype=np.uint8)
        base = (np.indices((480, 640, 3)).sum(axis=0) % 251).astype(np.uint8)
        for frame in range(frames):
            pixels[frame] = base + frame
        ds = _ultrasound(frames, regions)
        ds.PixelData = pixels.tobytes()
        del pixels
        files[name] = _write(ds, folder / f"{name}.dcm")
    ct = _identified("1.2.840.10008.5.1.4.1.1.2", "CT")
    ct.SamplesPerPixel, ct.PhotometricInterpretation = 1, "MONOCHROME2"
    ct.Rows = ct.Columns = 512
    ct.BitsAllocated, ct.BitsStored, ct.HighBit, ct.PixelRepresentation = 16, 12, 11, 0
    ct.RescaleIntercept, ct.RescaleSlope = -1024, 1
    ct.PixelData = (np.arange(512 * 512, dtype="<u2") % 4096).tobytes()
    files["ct-slice"] = _write(ct, folder / "ct-slice.dcm")
    return files


def _identified(sop_class: str, modality: str) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = generate_uid(), generate_uid(), generate_uid()
    ds.Modality = modality
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Lindqvist^Astrid", "PID-778812", "19560412", "F"
    ds.PatientAge, ds.PatientWeight = "069Y", 61.5
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = "20250314"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101500"
    ds.AccessionNumber, ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "ACC-1001", "4471", 3, 1
    ds.InstitutionName, ds.InstitutionAddress = "Kvarngardens Vardcentral", "Kvarngatan 1, Uppsala"
    ds.StationName, ds.DeviceSerialNumber, ds.Manufacturer = "ROOM-7", "SN-99812", "ACME Imaging"
    ds.ReferringPhysicianName, ds.OperatorsName = "Doktorsson^Dora", "Operatorsson^Olle"
    ds.StudyDescription, ds.SeriesDescription = "ABDOMEN with contrast", "AXIAL 5mm"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "T-D4000", "SRT", "Abdomen"
    ds.AnatomicRegionSequence = [code]
    request = Dataset()
    request.RequestedProcedureID, request.ScheduledProcedureStepID = "RP-1", "SPS-1"
    ds.RequestAttributesSequence = [request]
    ds.private_block(0x0009, "ACME PRIVATE", create=True).add_new(0x01, "LO", "Lindqvist Astrid")
    return ds


def _ultrasound(frames: int, regions: bool) -> Dataset:
    single = "1.2.840.10008.5.1.4.1.1.6.1"
    ds = _identified(single if frames == 1 else "1.2.840.10008.5.1.4.1.1.3.1", "US")
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.Rows, ds.Columns = 480, 640
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames > 1:
        ds.NumberOfFrames, ds.FrameTime = frames, 33.3
    ds.BurnedInAnnotation = "YES" if regions else "NO"
    if regions:
        region = Dataset()
        region.RegionSpatialFormat, region.RegionDataType, region.RegionFlags = 1, 1, 0
        region.RegionLocationMinX0, region.RegionLocationMinY0 = 80, 60
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 559, 419
        ds.SequenceOfUltrasoundRegions = [region]
    return ds


def compressed_inputs(folder: Path) -> dict[str, Path]:
    """The shipped compressed files, and the ones made from a shipped ultrasound (see the module doc)."""
    from pydicom.data import get_testdata_file

    files = {name: Path(str(get_testdata_file(shipped))) for name, shipped in COMPRESSED_FILES.items()}
    for name, syntax in DERIVED_FILES.items():
        ds = pydicom.dcmread(str(get_testdata_file("OBXXXX1A.dcm")))
        ds.compress(syntax)
        files[name] = folder / f"{name.split()[0]}.dcm"
        ds.save_as(files[name])
    return files


def _write(ds: Dataset, path: Path) -> Path:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


# --- the contenders --------------------------------------------------------------------------------------


def contenders() -> dict[str, Contender | str]:
    """Name → function, or the reason it is skipped."""
    return {name: contender(name) for name in ("copy", "pydicom", "ours", *PEERS)}


def contender(name: str) -> Contender | str:
    """The contender called ``name`` (importing only what it needs), or why it is skipped."""
    if name == "copy":
        return shutil.copyfile
    if name == "pydicom":

        def floor(src: Path, dst: Path) -> None:
            pydicom.dcmread(src).save_as(dst)

        return floor
    if name == "ours":
        from chalicelib.domain.anonymization import anonymize_file

        def ours(src: Path, dst: Path) -> None:
            anonymize_file(src, dst, key=KEY)

        return ours
    return _peer(name) if importlib.util.find_spec(PEERS[name]) else f"not installed (pip install {name})"


def _peer(name: str) -> Contender:
    if name == "dicognito":
        from dicognito.anonymizer import Anonymizer

        anonymizer = Anonymizer()

        def dicognito(src: Path, dst: Path) -> None:
            ds = pydicom.dcmread(src)
            anonymizer.anonymize(ds)
            ds.save_as(dst)

        return dicognito
    if name == "deid":
        from deid.config import DeidRecipe
        from deid.dicom import replace_identifiers

        recipe = DeidRecipe()

        def deid(src: Path, dst: Path) -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                parsed = replace_identifiers([str(src)], deid=recipe, save=False, remove_private=True)
            parsed[0].save_as(dst)

        return deid
    from dicomanonymizer import anonymize_dicom_file

    def dicom_anonymizer(src: Path, dst: Path) -> None:
        anonymize_dicom_file(str(src), str(dst))

    return dicom_anonymizer


# --- measuring -------------------------------------------------------------------------------------------


def time_ms(run: Contender, src: Path, dst: Path, runs: int) -> tuple[float, float]:
    """(median, best) wall time in ms of ``runs`` warm runs."""
    run(src, dst)  # warm: caches, lazy imports, page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run(src, dst)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def memory_child(name: str, src: Path, dst: Path, warm: Path) -> None:
    """In a fresh process: RSS growth and tracemalloc peak of one run of ``name`` on ``src`` (JSON)."""
    run = contender(name)
    assert callable(run)
    run(warm, dst)
    # ru_maxrss survives exec (it would report the parent's peak); the kernel's per-process high-water
    # mark can be reset to the current RSS instead, so the peak below is this run's alone.
    Path("/proc/self/clear_refs").write_text("5")
    baseline = _status_kb("VmRSS")
    run(src, dst)
    peak = _status_kb("VmHWM")
    tracemalloc.start()
    run(src, dst)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"rss_growth_kb": peak - baseline, "rss_peak_kb": peak, "traced_bytes": traced}))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory(name: str, src: Path, dst: Path, warm: Path) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, __file__, "--memory-child", name, str(src), str(dst), str(warm)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per file and contender")
    parser.add_argument("--memory-child", nargs=4, metavar=("NAME", "SRC", "DST", "WARM"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    warnings.simplefilter("ignore")
    if arguments.memory_child:
        name, src, dst, warm = arguments.memory_child
        memory_child(name, Path(src), Path(dst), Path(warm))
        return

    with tempfile.TemporaryDirectory(prefix="bench-anonymize-") as folder:
        files = generate(Path(folder))
        out = Path(folder) / "out.dcm"
        found = contenders()
        results: dict[tuple[str, str], tuple[float, float]] = {}
        memories: dict[tuple[str, str], dict[str, float]] = {}
        print(
            f"{'file':<18} {'size MB':>8}  {'contender':<17} {'median ms':>10} {'best ms':>8} "
            f"{'x copy':>7} {'x pydicom':>9} {'x ours':>7} {'RSS +MB':>8} {'RSS peak MB':>11} {'traced MB':>9}"
        )
        for file_name in FILES + CLEANING_FILES:
            src = files[file_name]
            size = src.stat().st_size / 1e6
            names = ("copy", "pydicom", "ours", *PEERS) if file_name in FILES else ("copy", "ours")
            for name in names:
                run = found[name]
                if not callable(run):
                    print(f"{file_name:<18} {size:8.1f}  {name:<17} skipped: {run}")
                    continue
                runs = max(3, arguments.runs // 2) if size > 50 else arguments.runs
                results[file_name, name] = time_ms(run, src, out, runs)
                used = memories[file_name, name] = memory(name, src, out, files["ct-slice"])
                median, best = results[file_name, name]
                ratios = [
                    median / results[file_name, base][0] if (file_name, base) in results else float("nan")
                    for base in ("copy", "pydicom", "ours")
                ]
                print(
                    f"{file_name:<18} {size:8.1f}  {name:<17} {median:10.2f} {best:8.2f} "
                    f"{ratios[0]:7.2f} {ratios[1]:9.2f} {ratios[2]:7.2f} {used['rss_growth_kb'] / 1024:8.1f} "
                    f"{used['rss_peak_kb'] / 1024:11.1f} {used['traced_bytes'] / 1e6:9.1f}"
                )
        _verdict(results, memories, files, found)
        _compressed(Path(folder), out, arguments.runs)


def _compressed(folder: Path, out: Path, runs: int) -> None:
    from chalicelib.domain.anonymization import anonymize_file

    print()
    print(f"{'compressed input':<20} {'syntax':<34} {'in KB':>8} {'out KB':>8} {'out/in':>7} {'x copy':>7}  done")
    ratios = []
    for name, src in compressed_inputs(folder).items():
        report = anonymize_file(src, out, key=KEY)
        syntax = pydicom.dcmread(src, stop_before_pixels=True).file_meta.TransferSyntaxUID.name
        if not report.anonymizable:
            print(f"{name:<20} {syntax[:34]:<34} {src.stat().st_size / 1e3:8.1f} {'-':>8} {'-':>7} {'-':>7}  refused")
            continue
        ratio = out.stat().st_size / src.stat().st_size
        ratios.append(ratio)
        copy_ms = time_ms(shutil.copyfile, src, out, runs)[0]
        ours_ms = time_ms(contender("ours"), src, out, runs)[0]  # type: ignore[arg-type]
        done = "cleaned" if report.pixels_cleaned else "copied"
        print(
            f"{name:<20} {syntax[:34]:<34} {src.stat().st_size / 1e3:8.1f} {out.stat().st_size / 1e3:8.1f} "
            f"{ratio:7.2f} {ours_ms / copy_ms:7.1f}  {done}"
        )
    print(f"every output within {SIZE_GOAL}x its input: {'yes' if all(r <= SIZE_GOAL for r in ratios) else 'no'}")


def _verdict(
    results: dict[tuple[str, str], tuple[float, float]],
    memories: dict[tuple[str, str], dict[str, float]],
    files: dict[str, Path],
    found: dict[str, Contender | str],
) -> None:
    peers = [name for name in PEERS if callable(found[name])]
    slower = [
        (file_name, peer)
        for file_name in FILES
        for peer in peers
        if results[file_name, "ours"][0] >= results[file_name, peer][0]
    ]
    cine_ratio = results["us-cine", "ours"][0] / results["us-cine", "copy"][0]
    cleaning_ratio = results["us-cine-regions", "ours"][0] / results["us-cine-regions", "copy"][0]
    print()
    print(
        f"faster than every installed peer ({', '.join(peers) or 'none'}) on every file: "
        f"{'yes' if not slower else 'no: ' + ', '.join(f'{f} vs {p}' for f, p in slower)}"
    )
    print(f"cine vs plain copy: {cine_ratio:.2f}x (goal: within 1.5x)")
    print(f"cine cleaned outside its regions vs plain copy: {cleaning_ratio:.2f}x (goal: within 2x)")
    cine_mb = files["us-cine"].stat().st_size / 1e6
    for file_name in ("us-cine", "us-cine-regions"):
        used = memories[file_name, "ours"]
        print(
            f"{file_name}: ours grows RSS by {used['rss_growth_kb'] / 1024:.1f} MB "
            f"(process peak {used['rss_peak_kb'] / 1024:.1f} MB, interpreter, pydicom and numpy included) "
            f"for a {cine_mb:.1f} MB file (goal: below half of it, {cine_mb / 2:.1f} MB)"
        )


if __name__ == "__main__":
    main()
