"""Turning untrusted uploads into safe image files.

Every image is decoded by Pillow and re-encoded from its pixels: this drops EXIF (which carries
the phone's GPS position and the time), any trailing payload, and anything that only pretends to
be an image. Files get random names so that a URL cannot be guessed from another.
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ClinicalError

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDE = 8000
PHOTO_STORED_MAX_SIDE = 3000
SIGNATURE_MAX_BYTES = 1024 * 1024
SIGNATURE_MAX_SIDE = 2000

# Pillow's own guard against decompression bombs, set to what a phone camera can produce.
Image.MAX_IMAGE_PIXELS = PHOTO_MAX_SIDE * PHOTO_MAX_SIDE


@dataclass(frozen=True)
class CleanImage:
    name: str
    content: ContentFile
    width: int
    height: int


def _open(raw: bytes, *, field: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ClinicalError(
            "That file is not an image we can read. Upload a JPEG, PNG or WebP photo.",
            field=field,
        ) from None
    return image


def photo_clean(raw: bytes, *, field: str = "image") -> CleanImage:
    if len(raw) > PHOTO_MAX_BYTES:
        raise ClinicalError(
            f"The photo is larger than {PHOTO_MAX_BYTES // (1024 * 1024)} MB.", field=field
        )
    if not raw:
        raise ClinicalError("The file is empty.", field=field)
    image = _open(raw, field=field)
    if max(image.size) > PHOTO_MAX_SIDE:
        raise ClinicalError(
            f"The photo is larger than {PHOTO_MAX_SIDE} pixels on a side.", field=field
        )
    # Honour the camera's orientation before EXIF is dropped, or portrait shots lie sideways.
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((PHOTO_STORED_MAX_SIDE, PHOTO_STORED_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88, optimize=True)
    name = f"{uuid.uuid4().hex}.jpg"
    return CleanImage(
        name=name,
        content=ContentFile(out.getvalue(), name=name),
        width=image.width,
        height=image.height,
    )


def signature_clean(data_url: str, *, field: str = "signature") -> CleanImage:
    """A canvas's `toDataURL()` PNG: must decode, and must actually contain a drawing."""
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        raise ClinicalError("Ask the patient to sign in the box.", field=field)
    if len(data_url) > SIGNATURE_MAX_BYTES * 4 // 3 + len(prefix):
        raise ClinicalError("The signature image is too large.", field=field)
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise ClinicalError(
            "The signature did not arrive intact; sign again.", field=field
        ) from None
    image = _open(raw, field=field)
    if max(image.size) > SIGNATURE_MAX_SIDE:
        raise ClinicalError("The signature image is too large.", field=field)
    image = image.convert("RGBA")
    # A blank canvas is fully transparent: the alpha band's maximum is 0.
    if image.getchannel("A").getextrema()[1] == 0:
        raise ClinicalError("Ask the patient to sign in the box.", field=field)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    name = f"{uuid.uuid4().hex}.png"
    return CleanImage(
        name=name,
        content=ContentFile(out.getvalue(), name=name),
        width=image.width,
        height=image.height,
    )
