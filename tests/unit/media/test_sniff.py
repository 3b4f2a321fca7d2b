"""Sniffing real files made here; names and extensions are chosen to mislead."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.media.sniff import Sniffed, sniff

from . import samples

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Audio and video files encoded once for the module (FFmpeg through PyAV)."""
    folder = tmp_path_factory.mktemp("media")
    return {
        "mp3": samples.encode_audio(folder / "a", "mp3", "libmp3lame", 44100),
        "mp3_no_id3": samples.encode_audio(folder / "b", "mp3", "libmp3lame", 44100, {"id3v2_version": "0"}),
        "m4a": samples.encode_audio(folder / "c", "ipod", "aac", 44100),
        "mp4_audio_only": samples.encode_audio(folder / "d", "mp4", "aac", 44100),
        "opus": samples.encode_audio(folder / "e", "ogg", "libopus", 48000),
        "flac": samples.encode_audio(folder / "f", "flac", "flac", 44100),
        "aac": samples.encode_audio(folder / "g", "adts", "aac", 44100),
        "amr": samples.encode_audio(folder / "h", "amr", "libopencore_amrnb", 8000),
        "weba": samples.encode_audio(folder / "i", "webm", "libopus", 48000),
        "mp4": samples.encode_video(folder / "j"),
        "mp4_with_sound": samples.encode_video(folder / "k", with_audio=True),
        "mov": samples.encode_video(folder / "l", container="mov"),
        "webm": samples.encode_video(folder / "m", container="webm", codec="libvpx-vp9"),
        "mkv": samples.encode_video(folder / "n", container="matroska"),
        "avi": samples.encode_video(folder / "o", container="avi", codec="mpeg4"),
    }


@pytest.mark.parametrize(
    ("name", "mime", "family"),
    [
        ("mp3", "audio/mpeg", "audio"),
        ("mp3_no_id3", "audio/mpeg", "audio"),
        ("m4a", "audio/mp4", "audio"),
        ("mp4_audio_only", "audio/mp4", "audio"),  # generic isom brand: the tracks decide
        ("opus", "audio/ogg", "audio"),
        ("flac", "audio/flac", "audio"),
        ("aac", "audio/aac", "audio"),
        ("amr", "audio/amr", "audio"),
        ("weba", "audio/webm", "audio"),
        ("mp4", "video/mp4", "video"),
        ("mp4_with_sound", "video/mp4", "video"),
        ("mov", "video/quicktime", "video"),
        ("webm", "video/webm", "video"),
        ("mkv", "video/x-matroska", "other"),
        ("avi", "video/x-msvideo", "other"),
    ],
)
def test_audio_and_video(media: dict[str, bytes], name: str, mime: str, family: str) -> None:
    assert sniff(media[name]) == Sniffed(mime=mime, family=family)


def test_wav_is_audio() -> None:
    assert sniff(samples.wav()) == Sniffed("audio/wav", "audio")


@pytest.mark.parametrize("name", ["mp3", "m4a", "opus", "weba", "mp4_audio_only"])
def test_audio_renamed_as_a_photo_is_still_audio(media: dict[str, bytes], name: str, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(media[name])
    assert sniff(photo).family == "audio"


def test_wav_renamed_as_a_photo_is_still_audio(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_0001.JPG"
    photo.write_bytes(samples.wav())
    assert sniff(photo) == Sniffed("audio/wav", "audio")


def test_a_path_and_its_bytes_sniff_alike(media: dict[str, bytes], tmp_path: Path) -> None:
    for name in ("mp4", "weba"):
        path = tmp_path / "file.bin"
        path.write_bytes(media[name])
        assert sniff(path) == sniff(media[name])


@pytest.mark.parametrize(
    ("make", "mime"),
    [
        (lambda: samples.jpeg_with_gps(), "image/jpeg"),
        (lambda: samples.png_with_text(), "image/png"),
        (lambda: samples.animated_gif(), "image/gif"),
        (lambda: samples.webp_with_exif(), "image/webp"),
    ],
)
def test_images(make: object, mime: str) -> None:
    assert callable(make)
    assert sniff(make()) == Sniffed(mime, "image")


def test_heic_is_an_image() -> None:
    pytest.importorskip("pillow_heif")
    assert sniff(samples.heic_with_exif()) == Sniffed("image/heic", "image")


@pytest.mark.parametrize(
    ("make", "mime", "family"),
    [
        (lambda: samples.pdf(), "application/pdf", "document"),
        (lambda: samples.ooxml("word/document.xml", samples.DOCX_MAIN), DOCX, "document"),
        (lambda: samples.ooxml("xl/workbook.xml", samples.XLSX_MAIN), XLSX, "document"),
        (lambda: samples.ooxml("ppt/presentation.xml", samples.PPTX_MAIN), PPTX, "document"),
        (
            lambda: samples.ooxml("word/document.xml", samples.DOCM_MAIN),
            "application/vnd.ms-word.document.macroEnabled.12",
            "other",
        ),
        (
            lambda: samples.opendocument("application/vnd.oasis.opendocument.text"),
            "application/vnd.oasis.opendocument.text",
            "document",
        ),
        (
            lambda: samples.opendocument("application/vnd.oasis.opendocument.spreadsheet"),
            "application/vnd.oasis.opendocument.spreadsheet",
            "document",
        ),
        (lambda: samples.zip_file({"word/document.xml": "<not an office file/>"}), "application/zip", "other"),
        (lambda: samples.compound_file(["WordDocument", "1Table"]), "application/msword", "document"),
        (lambda: samples.compound_file(["Workbook"]), "application/vnd.ms-excel", "document"),
        (
            lambda: samples.compound_file(["Current User", "PowerPoint Document"]),
            "application/vnd.ms-powerpoint",
            "document",
        ),
        (lambda: samples.compound_file(["WordDocument", "Macros"]), "application/vnd.ms-office.vbaproject", "other"),
        (lambda: samples.compound_file(["__substg1.0_0037001F"]), "application/x-ole-storage", "other"),
        (lambda: rb"{\rtf1\ansi Hej}", "application/rtf", "document"),
    ],
)
def test_documents(make: object, mime: str, family: str) -> None:
    assert callable(make)
    assert sniff(make()) == Sniffed(mime, family)


@pytest.mark.parametrize(
    ("content", "mime", "family"),
    [
        ("Provsvar: allt ser bra ut.\r\nHälsningar, mottagningen\n".encode(), "text/plain", "document"),
        ("\ufeffmed byte-order mark\n".encode(), "text/plain", "document"),
        (b"tab\tseparated\tvalues\n1\t2\t3\n", "text/plain", "document"),
        ("Hälsningar".encode("latin-1"), "application/octet-stream", "other"),  # not UTF-8
        (b"text with a NUL\x00 inside", "application/octet-stream", "other"),
        (b"escape \x1b[31m codes", "application/octet-stream", "other"),
        ("ends in a cut character \u00e5".encode()[:-1], "application/octet-stream", "other"),
        (b"  <!DOCTYPE html><script>alert(1)</script>", "text/html", "other"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "text/html", "other"),
        (b"", "application/x-empty", "other"),
        (bytes(range(256)) * 4, "application/octet-stream", "other"),
    ],
)
def test_text_rule(content: bytes, mime: str, family: str) -> None:
    assert sniff(content) == Sniffed(mime, family)


def test_long_text_is_judged_whole(tmp_path: Path) -> None:
    # A NUL far beyond the first chunk still disqualifies the file.
    path = tmp_path / "notes.txt"
    path.write_bytes(b"ok line\n" * 20_000 + b"\x00")
    assert sniff(path).family == "other"
    path.write_bytes(b"ok line\n" * 20_000)
    assert sniff(path) == Sniffed("text/plain", "document")
