"""Small JPEG previews of chat attachments: picture thumbnails and video posters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.media import still
from chalicelib.media.errors import UnreadableMedia
from chalicelib.media.pictures import open_picture
from chalicelib.media.sources import Source, open_source

if TYPE_CHECKING:
    import av
    from PIL import Image

PREVIEW_SIDE = 320
POSTER_AT_SECONDS = 0.5
# A poster needs one frame; give up rather than decode a whole broken stream looking for it.
_MAX_DECODED_FRAMES = 600


def image_thumbnail(src: Source, max_side: int = PREVIEW_SIDE) -> bytes:
    """JPEG of the picture (its first frame if animated), upright, fit inside max_side × max_side.

    JPEGs are decoded at a reduced scale straight away (DCT scaling), which keeps a 50 MP photo's
    thumbnail fast and small in memory. Transparency is composited onto white.
    """
    from PIL import ImageOps

    with open_picture(src) as image:
        # Ask for twice the box so the final resize still has detail to average.
        image.draft("RGB", (2 * max_side, 2 * max_side))
        upright = ImageOps.exif_transpose(image)
        assert upright is not None  # not in place, so always an image
        return _preview_jpeg(upright, max_side)


def video_poster(src: Source, max_side: int = PREVIEW_SIDE) -> bytes:
    """JPEG of the frame about 0.5 s into the video (the first frame of a shorter one), upright.

    Works for MP4, MOV and WebM (anything FFmpeg decodes). Raises UnreadableMedia when the file has
    no decodable video frame.
    """
    import av
    from PIL import Image

    with open_source(src) as file:
        try:
            with av.open(file, mode="r") as container:
                stream = next(
                    (s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic),
                    None,
                )
                if stream is None:
                    raise UnreadableMedia("no video track")
                frame = _frame_near(container, stream, POSTER_AT_SECONDS)
                picture = Image.fromarray(frame.to_ndarray(format="rgb24"))
                # Phones record sideways and store a display rotation (counter-clockwise degrees).
                if frame.rotation:
                    picture = picture.rotate(frame.rotation, expand=True)
        except (av.FFmpegError, OSError, ValueError, EOFError) as err:
            raise UnreadableMedia("not a readable video") from err
    return _preview_jpeg(picture, max_side)


def _frame_near(container: av.container.InputContainer, stream: av.VideoStream, seconds: float) -> av.VideoFrame:
    """The first frame at or after ``seconds``; the first frame when the video is shorter.

    Decoding from the start (rather than seeking) costs at most half a second of frames and cannot
    land on a frame that needs a missing reference.
    """
    first: av.VideoFrame | None = None
    for index, frame in enumerate(container.decode(stream)):
        first = frame if first is None else first
        if frame.time is None or frame.time >= seconds or index >= _MAX_DECODED_FRAMES:
            return frame
    if first is None:
        raise UnreadableMedia("no decodable video frame")
    return first


def _preview_jpeg(image: Image.Image, max_side: int) -> bytes:
    return still.encode_jpeg(still.fit_within(still.flatten_to_rgb(image), max_side), quality=still.THUMBNAIL_QUALITY)
