"""Turning untrusted uploads into safe image files.

Only JPEG, PNG and WebP are opened (Pillow is told so: no BMP, TIFF, EPS, PSD... parser ever sees
the bytes). Opening reads the header alone; the pixel count is checked there, before anything is
decoded, against settings.UPLOAD_MAX_PIXELS, which is also Pillow's own decompression-bomb limit
(its warning is a refusal here, not a log line). Decoding stays within a per-format pixel budget (a
larger JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from the DCT; a larger PNG or WebP is
refused), the image is shrunk band by band, and re-encoded from its pixels alone: EXIF (the
phone's GPS position and the time), JPEG comments, ICC profiles and their text, PNG text chunks,
XMP and any trailing payload are dropped.
Files get random names so that a URL cannot be guessed from another.
Memory per photo: bench/upload_memory.py.
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from ..errors import ClinicalError

PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
PHOTO_STORED_MAX_SIDE = 3000
# Pixels decoded at full size, per format, so that one photo costs a worker under 150 MB on top of
# what it already holds (bench/upload_memory.py). Pillow keeps 4 bytes a pixel, and its
# WebP decoder three more copies of the frame. A larger JPEG is decoded at 1/2, 1/4 or 1/8 scale
# (libjpeg scales in the DCT), so a JPEG's only limit is settings.UPLOAD_MAX_PIXELS.
DECODE_MAX_PIXELS = {"JPEG": 12_500_000, "PNG": 12_500_000, "WEBP": 6_000_000}
# Output rows resized at a time (see _shrink).
SHRINK_BAND = 256
SIGNATURE_MAX_BYTES = 1024 * 1024
SIGNATURE_MAX_SIDE = 2000

# One pixel limit for the whole process: anything else in the app that opens an image with Pillow
# gets the same bound (Pillow warns above it and refuses above twice it).
Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_PIXELS

NOT_A_PHOTO = (
    "That file is not a JPEG, PNG or WebP image we can read. Save or export the photo as JPEG "
    "and upload it again."
)


@dataclass(frozen=True)
class CleanImage:
    name: str
    content: ContentFile
    width: int
    height: int


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g} megapixels"


def photo_check_size(size: int, *, field: str = "image") -> None:
    """Refuse an empty file or one over settings.UPLOAD_MAX_BYTES (before it is read)."""
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise ClinicalError(
            f"The photo is larger than {limit // (1024 * 1024)} MB. Upload a smaller photo.",
            field=field,
        )
    if size <= 0:
        raise ClinicalError("The file is empty.", field=field)


def _open_header(
    raw: bytes,
    *,
    field: str,
    formats: tuple[str, ...],
    max_pixels: int,
    too_big: str,
    unreadable: str = NOT_A_PHOTO,
) -> Image.Image:
    """Identify the file and read its size from the header; no pixel is decoded here."""
    try:
        # Pillow checks the header's pixel count inside open(); its warning becomes a refusal.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=formats)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ClinicalError(too_big, field=field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ClinicalError(unreadable, field=field) from None
    width, height = image.size
    if width < 1 or height < 1:
        raise ClinicalError(unreadable, field=field)
    if width * height > max_pixels:
        raise ClinicalError(too_big, field=field)
    return image


def _decode(image: Image.Image, *, field: str, unreadable: str = NOT_A_PHOTO) -> None:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        # A header that promised more than the data holds (truncated, corrupt).
        raise ClinicalError(unreadable, field=field) from None


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode(image: Image.Image, *, format: str, suffix: str, **options: object) -> CleanImage:
    # Pillow carries some metadata over from `info` when saving (a JPEG comment, a PNG's ICC
    # profile, XMP): only the pixels may leave.
    image.info = {}
    out = io.BytesIO()
    image.save(out, format=format, **options)
    name = f"{uuid.uuid4().hex}.{suffix}"
    return CleanImage(
        name=name,
        content=ContentFile(out.getvalue(), name=name),
        width=image.width,
        height=image.height,
    )


def _jpeg_scale(size: tuple[int, int]) -> int:
    """The smallest DCT scale (1, 2, 4 or 8) that keeps a JPEG's decoded pixels in the budget."""
    width, height = size
    for scale in (1, 2, 4):
        if (width // scale) * (height // scale) <= DECODE_MAX_PIXELS["JPEG"]:
            return scale
    return 8


def _shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image.resize(size)` band by band: Pillow's two-pass resize would otherwise hold a working
    copy as tall as the source (40 MB more for a 12 MP photo). Each band is resampled from the
    whole source (`box` only places it), so the result matches a one-go resize to within
    rounding."""
    out = Image.new(image.mode, size)
    rows_per_row = image.height / size[1]
    for top in range(0, size[1], SHRINK_BAND):
        bottom = min(size[1], top + SHRINK_BAND)
        band = image.resize(
            (size[0], bottom - top),
            Image.Resampling.BICUBIC,
            box=(0, top * rows_per_row, image.width, bottom * rows_per_row),
        )
        out.paste(band, (0, top))
    return out


def photo_clean(raw: bytes, *, field: str = "image") -> CleanImage:
    photo_check_size(len(raw), field=field)
    limit = settings.UPLOAD_MAX_PIXELS
    image = _open_header(
        raw,
        field=field,
        formats=PHOTO_FORMATS,
        max_pixels=limit,
        too_big=(
            f"The photo has more than {_megapixels(limit)}. Upload it at a lower resolution "
            "(a phone's standard photo size is fine)."
        ),
    )
    width, height = image.size
    kind = image.format or ""  # open() was given PHOTO_FORMATS: always one of them here
    if kind == "JPEG":
        scale = _jpeg_scale(image.size)
        if scale > 1:
            image.draft(None, (width // scale, height // scale))
    elif width * height > DECODE_MAX_PIXELS[kind]:
        raise ClinicalError(
            f"A {kind} photo may have at most "
            f"{_megapixels(DECODE_MAX_PIXELS[kind])}. Upload it as JPEG, or at a lower "
            "resolution.",
            field=field,
        )
    _decode(image, field=field)
    # The camera's orientation (EXIF or XMP), read now: the shrunk copy carries no metadata.
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    # Flatten to RGB before shrinking (resampling with an alpha band copies the whole image).
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    stored = _fitted(image.size, PHOTO_STORED_MAX_SIDE)
    if stored != image.size:
        image = _shrink(image, stored)
        if orientation:
            image.getexif()[ExifTags.Base.Orientation] = orientation
    # Turn it upright (on the small copy) before the metadata goes, or portraits lie sideways.
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return _encode(image, format="JPEG", suffix="jpg", quality=88, optimize=True)


def signature_clean(data_url: str, *, field: str = "signature") -> CleanImage:
    """A canvas's `toDataURL()` PNG: must decode, and must actually contain a drawing."""
    prefix = "data:image/png;base64,"
    garbled = "The signature did not arrive intact; sign again."
    if not data_url or not data_url.startswith(prefix):
        raise ClinicalError("Ask the patient to sign in the box.", field=field)
    if len(data_url) > SIGNATURE_MAX_BYTES * 4 // 3 + len(prefix):
        raise ClinicalError("The signature image is too large.", field=field)
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise ClinicalError(garbled, field=field) from None
    image = _open_header(
        raw,
        field=field,
        formats=("PNG",),
        max_pixels=SIGNATURE_MAX_SIDE * SIGNATURE_MAX_SIDE,
        too_big="The signature image is too large.",
        unreadable=garbled,
    )
    if max(image.size) > SIGNATURE_MAX_SIDE:
        raise ClinicalError("The signature image is too large.", field=field)
    _decode(image, field=field, unreadable=garbled)
    image = image.convert("RGBA")
    # A blank canvas is fully transparent: the alpha band's maximum is 0.
    if image.getchannel("A").getextrema()[1] == 0:
        raise ClinicalError("Ask the patient to sign in the box.", field=field)
    return _encode(image, format="PNG", suffix="png", optimize=True)
