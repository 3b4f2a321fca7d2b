"""Media processing for patient-share: local files in, local files or bytes out.

No AWS, no clock, no environment. Heavy libraries (numpy, Pillow, PyAV, pydicom, pillow-heif) are
imported inside the functions that use them, so importing this package, or any module in it, costs
the API Lambda's cold start nothing.

DICOM → pictures and video (share and ingest workers):
    dicom_file     the one DICOM reader: read_header, locate_pixel_data, what a transfer syntax is
    dicom_frames   iter_decoded_frames: one frame at a time
    dicom_render   iter_display_frames, render_stills, render_cine_mp4, thumbnail
    cine           is_cine, frame_rate
    dicom_display  stored pixel values → 8-bit display pixels (modality LUT, VOI, palette, colour)
    still          render_jpeg, render_png
    video          encode_mp4 (H.264 in MP4, frame by frame)
    structured_report  read_report (an SR's content tree), report_pdf (fpdf2, media image only)

Chat attachments (attachment worker, upload route):
    attachment_types  the allow-list (data), classify_declared, MAX_ATTACHMENT_BYTES
    sniff             sniff: the type from the bytes, never from the name or declared type
                      (helpers: sniff_office, sniff_containers, plain_text)
    image_metadata    strip_image_metadata (EXIF/GPS, XMP, IPTC, comments) keeping the picture upright
    previews          image_thumbnail, video_poster
    pictures          opening uploads with Pillow: allowed formats only, size limit, HEIC on demand

Shared: errors (MediaError and its kinds), sources (path or file object, streams buffered once).
"""
