"""Real files made on the spot for the media tests: pictures, audio, video, documents, DICOM."""

from __future__ import annotations

import io
import struct
import wave
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import ExifTags, Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

# Strings that only the metadata carries, to look for in the bytes after stripping.
GPS_DATUM = "WGS-84-marker"
CAMERA_OWNER = "Owner-Anna-Andersson"


def pydicom_file(name: str) -> str:
    """Path of a DICOM file shipped inside pydicom's wheel (never downloaded)."""
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not shipped with pydicom"
    return str(path)


# ---------------------------------------------------------------- pictures


def halves(width: int, height: int) -> np.ndarray:
    """RGB picture whose left half is red and right half blue: shows which way it was turned."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = (255, 0, 0)
    pixels[:, width // 2 :] = (0, 0, 255)
    return pixels


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.CameraOwnerName] = CAMERA_OWNER
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 42.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (18.0, 4.0, 5.0)
    gps[ExifTags.GPS.GPSMapDatum] = GPS_DATUM
    return exif


def jpeg_with_gps(width: int = 80, height: int = 40, orientation: int = 6) -> bytes:
    buffer = io.BytesIO()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><owner>{CAMERA_OWNER}</owner></x:xmpmeta>'.encode()
    Image.fromarray(halves(width, height)).save(
        buffer,
        format="JPEG",
        quality=95,
        exif=exif_with_gps(orientation).tobytes(),
        xmp=xmp,
        comment=CAMERA_OWNER,
    )
    return buffer.getvalue()


def png_with_text(width: int = 30, height: int = 20) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CAMERA_OWNER)
    info.add_itxt("Description", CAMERA_OWNER, lang="sv")
    info.add_text("Comment", CAMERA_OWNER, zip=True)
    buffer = io.BytesIO()
    pixels = np.dstack([halves(width, height), np.full((height, width), 128, np.uint8)])
    Image.fromarray(pixels).save(buffer, format="PNG", pnginfo=info, exif=exif_with_gps(1).tobytes())
    return buffer.getvalue()


def animated_gif(frames: int = 4, side: int = 16) -> bytes:
    images = [Image.new("P", (side, side), color=index * 40) for index in range(frames)]
    for image in images:
        image.putpalette([value for index in range(256) for value in (index, 255 - index, 0)])
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=[100, 200, 300, 400][:frames],
        loop=0,
        comment=CAMERA_OWNER,
    )
    return buffer.getvalue()


def webp_with_exif(width: int = 60, height: int = 30, orientation: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(halves(width, height)).save(
        buffer, format="WEBP", quality=95, exif=exif_with_gps(orientation).tobytes()
    )
    return buffer.getvalue()


def heic_with_exif(width: int = 64, height: int = 32, orientation: int = 6) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.fromarray(halves(width, height)).save(
        buffer, format="HEIF", quality=90, exif=exif_with_gps(orientation).tobytes()
    )
    return buffer.getvalue()


def pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PDF")
    return buffer.getvalue()


# ---------------------------------------------------------------- audio and video


def wav(seconds: float = 0.2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        samples = (np.sin(np.arange(int(8000 * seconds)) / 5) * 8000).astype("<i2")
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def encode_audio(path: Path, container: str, codec: str, rate: int, options: dict[str, str] | None = None) -> bytes:
    """A short tone encoded with FFmpeg (through PyAV) into ``container``."""
    with av.open(str(path), mode="w", format=container, options=options or {}) as output:
        stream = output.add_stream(codec, rate=rate)
        stream.layout = "mono"
        samples_per_frame = stream.codec_context.frame_size or 1152
        sample_format = stream.format.name
        dtype: Any = {"fltp": np.float32, "flt": np.float32, "s16p": np.int16, "s16": np.int16}.get(
            sample_format, np.int32
        )
        peak = 0.3 if dtype is np.float32 else np.iinfo(dtype).max // 4
        for index in range(12):
            tone = (np.sin(np.arange(samples_per_frame) / 7.0) * peak).astype(dtype)[None, :]
            frame = av.AudioFrame.from_ndarray(tone, format=sample_format, layout="mono")
            frame.sample_rate = rate
            frame.pts = index * samples_per_frame
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path.read_bytes()


def encode_video(
    path: Path,
    container: str = "mp4",
    codec: str = "libx264",
    frames: int = 10,
    fps: int = 10,
    with_audio: bool = False,
) -> bytes:
    """A small video whose frame ``i`` is uniformly grey level ``20 * i``."""
    with av.open(str(path), mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        audio = output.add_stream("aac", rate=44100) if with_audio else None
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * index, np.uint8), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
        if audio is not None:
            output.mux(audio.encode(None))
    return path.read_bytes()


# Where and with what a phone video was shot, as a phone writes it (ISO 6709 position: Stockholm).
VIDEO_POSITION = "+59.3293+018.0686"
VIDEO_MAKE = "Fabrikat-Kamera-AB"
VIDEO_MODEL = "Modell-Telefon-15"
VIDEO_SHOT_AT = "2026-05-01T10:11:12.000000Z"


def phone_video(path: Path, container: str = "mov", *, mdta: bool = False, rotation: int = 0) -> bytes:
    """A short video with sound, a timecode track and what a phone stores about it.

    Container tags ``location`` (written as QuickTime's ``©xyz`` atom), ``make``, ``model`` and
    ``creation_time``, the same on the tracks, and a ``timecode`` that makes a tmcd data track. With
    ``mdta``, the tags are written as Apple's ``mdta`` keys instead (``com.apple.quicktime.*``, as iPhones
    do). ``rotation`` (90 or 270) sets the video track's display matrix, as a phone held upright does.
    """
    position = f"{VIDEO_POSITION}+012.000/" if mdta else f"{VIDEO_POSITION}/"
    tags = (
        {
            "com.apple.quicktime.location.ISO6709": position,
            "com.apple.quicktime.make": VIDEO_MAKE,
            "com.apple.quicktime.model": VIDEO_MODEL,
            "com.apple.quicktime.creationdate": VIDEO_SHOT_AT,
        }
        if mdta
        else {"location": position, "make": VIDEO_MAKE, "model": VIDEO_MODEL}
    )
    options = {"movflags": "+use_metadata_tags"} if mdta else {}
    with av.open(str(path), mode="w", format=container, options=options) as output:
        output.metadata.update({**tags, "creation_time": VIDEO_SHOT_AT})
        video = output.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.metadata.update({"creation_time": VIDEO_SHOT_AT, "timecode": "10:11:12:00"})
        audio = output.add_stream("aac", rate=44100)
        audio.layout = "mono"
        audio.metadata["creation_time"] = VIDEO_SHOT_AT
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * index, np.uint8), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, 10)
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        samples_per_frame = audio.codec_context.frame_size
        for index in range(20):
            tone = (np.sin(np.arange(samples_per_frame) / 7.0) * 0.3).astype(np.float32)[None, :]
            sound = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            sound.sample_rate = 44100
            sound.pts = index * samples_per_frame
            output.mux(audio.encode(sound))
        output.mux(audio.encode(None))
    if rotation:
        _rotate(path, rotation)
    return path.read_bytes()


def _rotate(path: Path, degrees: int) -> None:
    """Set the first track's display matrix (tkhd, version 0) to a rotation of 90 or 270 degrees."""
    data = bytearray(path.read_bytes())
    tkhd = data.index(b"tkhd")
    # After the box type: version/flags, creation, modification, track id, reserved, duration (4 bytes each),
    # reserved (8), layer, alternate group, volume, reserved (2 each): 40 bytes, then the 3×3 matrix.
    matrix = tkhd + 4 + 40
    one, w = 1 << 16, 1 << 30
    a, b = {90: (0, one), 270: (0, -one)}[degrees]
    data[matrix : matrix + 36] = struct.pack(">9i", a, b, 0, -b, a, 0, 0, 0, w)
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- documents


def zip_file(members: dict[str, str], first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if first is not None:
            archive.writestr(zipfile.ZipInfo(first), members[first], compress_type=zipfile.ZIP_STORED)
        for name, content in members.items():
            if name != first:
                archive.writestr(name, content)
    return buffer.getvalue()


def ooxml(main_part: str, content_type: str) -> bytes:
    """A minimal Office Open XML package whose main part has ``content_type``."""
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{content_type}"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'officeDocument" Target="{main_part}"/></Relationships>'
    )
    return zip_file({"[Content_Types].xml": types, "_rels/.rels": rels, main_part: "<document/>"})


DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def opendocument(mime: str) -> bytes:
    return zip_file({"mimetype": mime, "content.xml": "<office:document-content/>"}, first="mimetype")


def compound_file(stream_names: list[str]) -> bytes:
    """A Compound File (OLE2, MS-CFB v3) with a root storage and one 4 KiB stream per name."""
    sector = 512
    end_of_chain, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    stream_sectors = 8  # 4096 bytes: at the mini-stream cutoff, so streams live in normal sectors
    directory_sectors = (len(stream_names) + 1 + 3) // 4
    # Layout: sector 0 = FAT, then the directory, then each stream.
    fat = [fat_sector]
    first_directory = len(fat)
    fat += [first_directory + i + 1 for i in range(directory_sectors - 1)] + [end_of_chain]
    stream_starts = []
    for _ in stream_names:
        start = len(fat)
        stream_starts.append(start)
        fat += [start + i + 1 for i in range(stream_sectors - 1)] + [end_of_chain]
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, child: int, start: int, size: int, right: int = free) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", free, right, child)
            + b"\x00" * 16
            + b"\x00" * 4
            + b"\x00" * 16
            + struct.pack("<IQ", start, size)
        )

    entries = [entry("Root Entry", 5, 1 if stream_names else free, end_of_chain, 0)]
    for index, (name, start) in enumerate(zip(stream_names, stream_starts, strict=True)):
        right = index + 2 if index + 1 < len(stream_names) else free
        entries.append(entry(name, 2, free, start, stream_sectors * sector, right))
    directory = b"".join(entries).ljust(directory_sectors * sector, b"\x00")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9)
        + struct.pack("<H", 6)
        + b"\x00" * 6
        + struct.pack("<IIII", 0, 1, first_directory, 0)
        + struct.pack("<IIIII", 4096, end_of_chain, 0, end_of_chain, 0)
        + struct.pack("<109I", 0, *([free] * 108))
    )
    assert len(header) == sector
    streams = b"".join(bytes([65 + i]) * (stream_sectors * sector) for i in range(len(stream_names)))
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + streams


# ---------------------------------------------------------------- DICOM


def dicom_file(path: Path, pixel_bytes: bytes, **attributes: Any) -> Path:
    """A native (uncompressed) DICOM file with the given Image Pixel attributes and raw pixel bytes."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = "OT"
    for keyword, value in attributes.items():
        setattr(dataset, keyword, value)
    dataset.PixelData = pixel_bytes
    dataset["PixelData"].VR = "OB" if attributes.get("BitsAllocated", 8) == 8 else "OW"
    dataset.save_as(path, enforce_file_format=True)
    return path


def rgb_cine(path: Path, frames: int, rows: int, columns: int, **timing: Any) -> Path:
    """A native RGB ultrasound cine; frame ``i`` has a bright square at column ``4 * i``."""
    pixels = np.zeros((frames, rows, columns, 3), np.uint8)
    pixels[..., 0] = np.linspace(0, 255, columns, dtype=np.uint8)[None, None, :]
    pixels[..., 2] = 80
    for index in range(frames):
        x = (4 * index) % max(columns - 16, 1)
        pixels[index, 8:24, x : x + 16] = 255
    attributes: dict[str, Any] = {
        "Modality": "US",
        "SamplesPerPixel": 3,
        "PhotometricInterpretation": "RGB",
        "PlanarConfiguration": 0,
        "Rows": rows,
        "Columns": columns,
        "BitsAllocated": 8,
        "BitsStored": 8,
        "HighBit": 7,
        "PixelRepresentation": 0,
        "NumberOfFrames": frames,
        **timing,
    }
    return dicom_file(path, pixels.tobytes(), **attributes)


def padded_pdf(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes (a comment line fills it out)."""
    head = pdf() + b"\n%"
    return head + b"0" * (size - len(head))


def chat_files(folder: Path) -> dict[str, bytes]:
    """The files the chat's acceptance names: pictures, a video, a document, audio, and the 10 MB edges."""
    mib = 1024 * 1024
    return {
        "jpeg": jpeg_with_gps(),
        "png": png_with_text(),
        "mp4": encode_video(folder / "v.mp4"),
        "pdf": pdf(),
        "wav": wav(),
        "mp3": encode_audio(folder / "a.mp3", "mp3", "libmp3lame", 44100),
        "10mb": padded_pdf(10 * mib),
        "11mb": padded_pdf(11 * mib),
    }
