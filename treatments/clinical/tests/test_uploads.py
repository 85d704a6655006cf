"""Hardened uploads: photos and drawn signatures.

Only JPEG, PNG and WebP are opened; the pixel count is read from the header and refused before
anything is decoded; Pillow's decompression-bomb warning is a refusal; metadata never reaches the
stored file. Every refusal is a message beside the field, nothing stored, never a 500.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageChops, ImageFile, ImageOps, PngImagePlugin

from treatments.clinical.models import ClinicalPhoto, ConsentSignature
from treatments.clinical.selectors import consent_text_current
from treatments.clinical.services import images

from .factories import png_bytes, signature_data_url

pytestmark = pytest.mark.django_db

PATIENT = "Jane Doe 1980-02-03"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_header_only(width: int, height: int) -> bytes:
    """IHDR claiming width x height and one tiny IDAT: a few dozen bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def png_complete(width: int, height: int) -> bytes:
    """A whole, valid greyscale PNG of width x height, compressed row by row (stays small)."""
    squeeze = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one grey byte a pixel
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def png_chunk_types(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        kinds.append(data[at + 4 : at + 8])
        at += 12 + length
    return kinds


def saved(fmt: str, size=(320, 240), **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (180, 140, 120)).save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_markers(data: bytes) -> list[int]:
    """The segment markers of a JPEG up to the image data (SOS)."""
    assert data[:2] == b"\xff\xd8"
    markers, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return markers


COM, APP1, APP2 = 0xFE, 0xE1, 0xE2

EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n%%EndComments\n"
    b"newpath 0 0 moveto 100 100 lineto stroke\nshowpage\n%%EOF\n"
)
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect/></svg>"


@pytest.fixture
def decoded(monkeypatch) -> list:
    """Every image Pillow decodes during the test (ImageFile.load is where pixels are read)."""
    calls = []
    real = ImageFile.ImageFile.load

    def load(self):
        if self.tile:  # pixels still to read (a loaded image keeps no tiles)
            calls.append(self.size)
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


@pytest.fixture
def upload_photo(session, ready, practitioner):
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})

    def upload(raw: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
        return practitioner.post(
            url,
            {
                "stage": "before",
                "zone": "cheeks",
                "view": "frontal",
                "image": SimpleUploadedFile(name, raw, content_type=content_type),
            },
        )

    return upload


def stored_photos() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "clinical" / "photos"
    return sorted(folder.glob("*")) if folder.exists() else []


def assert_refused_beside_the_field(response, words: str) -> None:
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["image"])
    assert words in errors
    assert words in response.content.decode()
    assert not ClinicalPhoto.objects.exists()
    assert stored_photos() == []


@pytest.mark.parametrize(
    ("raw", "name", "words"),
    [
        (png_header_only(30000, 30000), "bomb.png", "more than 40 megapixels"),
        (png_complete(12000, 10000), "wide.png", "more than 40 megapixels"),
        (png_header_only(5000, 4000), "big.png", "A PNG photo may have at most 12.5 megapixels"),
    ],
    ids=["png-30000x30000-header", "png-12000x10000-complete", "png-over-its-decode-budget"],
)
def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(
    upload_photo, decoded, raw, name, words
):
    assert len(raw) < 500_000
    response = upload_photo(raw, name, "image/png")
    assert_refused_beside_the_field(response, words)
    assert decoded == []


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (saved("BMP"), "photo.bmp"),
        (saved("TIFF"), "photo.tiff"),
        (saved("GIF"), "photo.gif"),
        (EPS, "photo.eps"),
        (SVG, "photo.svg"),
        (saved("JPEG")[:600], "truncated.jpg"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "garbage.png"),
    ],
    ids=["bmp", "tiff", "gif", "eps", "svg", "truncated-jpeg", "garbage-png"],
)
def test_a_file_that_is_not_a_jpeg_png_or_webp_is_refused(upload_photo, raw, name):
    response = upload_photo(raw, name, "image/jpeg")
    assert_refused_beside_the_field(response, "not a JPEG, PNG or WebP image")


def test_pillows_decompression_bomb_warning_is_a_refusal(upload_photo, settings, monkeypatch):
    settings.UPLOAD_MAX_PIXELS = 100_000_000
    # 640 x 480 is over this limit but under twice it: Pillow only warns, and the warning refuses.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200_000)
    response = upload_photo(png_bytes(size=(640, 480)), "p.png", "image/png")
    assert_refused_beside_the_field(response, "more than 100 megapixels")


def test_the_pixel_limit_and_pillows_limit_are_the_same_setting():
    assert settings.UPLOAD_MAX_PIXELS == 40_000_000
    assert Image.MAX_IMAGE_PIXELS == settings.UPLOAD_MAX_PIXELS


def test_a_photo_over_the_file_size_limit_is_refused_before_it_is_read(
    upload_photo, settings, decoded
):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    raw = png_bytes(size=(64, 64)) + b"\x00" * (1024 * 1024)
    response = upload_photo(raw, "p.png", "image/png")
    assert_refused_beside_the_field(response, "larger than 1 MB")
    assert decoded == []


def test_a_jpeg_comment_naming_the_patient_is_not_stored(upload_photo):
    raw = saved("JPEG", comment=f"Patient: {PATIENT}".encode())
    assert PATIENT.encode() in raw and COM in jpeg_markers(raw)
    response = upload_photo(raw)
    assert response.status_code == 302
    stored = ClinicalPhoto.objects.get().image.read()
    assert PATIENT.encode() not in stored
    assert COM not in jpeg_markers(stored)
    assert "comment" not in Image.open(io.BytesIO(stored)).info


def test_exif_xmp_and_an_icc_profile_with_text_are_not_stored(upload_photo):
    exif = Image.Exif()
    exif[0x010E] = f"Patient: {PATIENT}"  # ImageDescription
    icc = b"\x00" * 128 + f"desc {PATIENT}".encode()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:title>{PATIENT}</dc:title></x:xmpmeta>'
    raw = saved("JPEG", exif=exif.tobytes(), icc_profile=icc, xmp=xmp.encode())
    assert raw.count(PATIENT.encode()) == 3
    response = upload_photo(raw)
    assert response.status_code == 302
    stored = ClinicalPhoto.objects.get().image.read()
    assert PATIENT.encode() not in stored
    assert not {APP1, APP2, COM} & set(jpeg_markers(stored))


def test_png_text_chunks_are_not_stored(upload_photo):
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", PATIENT)
    info.add_text("Comment", PATIENT, zip=True)
    info.add_itxt("Description", PATIENT)
    raw = saved("PNG", pnginfo=info)
    response = upload_photo(raw, "p.png", "image/png")
    assert response.status_code == 302
    stored = ClinicalPhoto.objects.get().image.read()
    assert PATIENT.encode() not in stored
    assert not {APP1, APP2, COM} & set(jpeg_markers(stored))


def test_a_webp_photo_is_accepted_and_stored_as_a_clean_jpeg(upload_photo):
    exif = Image.Exif()
    exif[0x010E] = PATIENT
    response = upload_photo(saved("WEBP", exif=exif.tobytes()), "p.webp", "image/webp")
    assert response.status_code == 302
    stored = ClinicalPhoto.objects.get().image.read()
    assert jpeg_markers(stored)
    assert PATIENT.encode() not in stored


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(upload_photo, monkeypatch, decoded):
    monkeypatch.setitem(images.DECODE_MAX_PIXELS, "JPEG", 150_000)
    response = upload_photo(saved("JPEG", size=(800, 600)))
    assert response.status_code == 302
    # 800 x 600 is over the (lowered) budget: libjpeg decoded it at half size, never whole.
    assert decoded == [(400, 300)]
    photo = ClinicalPhoto.objects.get()
    assert (photo.width, photo.height) == (400, 300)


@pytest.mark.parametrize(("stored_side", "upright"), [(300, (200, 300)), (3000, (400, 600))])
def test_a_photo_is_shrunk_to_the_stored_size_and_turned_upright(
    upload_photo, monkeypatch, stored_side, upright
):
    monkeypatch.setattr(images, "PHOTO_STORED_MAX_SIDE", stored_side)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show rotated 90 degrees
    response = upload_photo(saved("JPEG", size=(600, 400), exif=exif.tobytes()))
    assert response.status_code == 302
    photo = ClinicalPhoto.objects.get()
    assert (photo.width, photo.height) == upright
    stored = Image.open(photo.image)
    assert stored.size == upright
    assert ImageOps.exif_transpose(stored).size == upright  # no orientation left to apply


def test_the_band_by_band_shrink_matches_a_one_go_resize():
    source = Image.linear_gradient("L").resize((700, 1300)).convert("RGB")
    banded = images._shrink(source, (350, 650))
    whole = source.resize((350, 650), Image.Resampling.BICUBIC)
    assert banded.size == whole.size
    # Bands of 256 rows: 650 rows need three, and their seams must not show.
    assert all(high <= 2 for _, high in ImageChops.difference(banded, whole).getextrema())


# --- drawn signatures ----------------------------------------------------------------------


def sign(practitioner, patient, face, data_url: str):
    text = consent_text_current(session_type=face)
    assert text is not None
    url = reverse("clinical:consent_sign", kwargs={"patient_pk": patient.pk, "text_pk": text.pk})
    return practitioner.post(
        url, {"typed_name": "Jane Doe", "signature": data_url, "read_aloud": "on"}
    )


def data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (png_header_only(30000, 30000), "too large"),
        (png_header_only(2500, 100), "too large"),
        (saved("JPEG"), "did not arrive intact"),
        (saved("BMP"), "did not arrive intact"),
        (SVG, "did not arrive intact"),
    ],
    ids=["png-30000x30000-header", "png-too-wide", "jpeg", "bmp", "svg"],
)
def test_a_signature_that_is_not_a_small_png_is_refused_beside_the_field(
    practitioner, patient, face, decoded, raw, words
):
    response = sign(practitioner, patient, face, data_url(raw))
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors["signature"])
    assert not ConsentSignature.objects.exists()
    assert decoded == []


def test_a_signatures_png_text_chunks_are_not_stored(practitioner, patient, face):
    raw = base64.b64decode(signature_data_url().split(",", 1)[1])
    image = Image.open(io.BytesIO(raw))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", PATIENT)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, icc_profile=b"\x00" * 128 + PATIENT.encode())
    response = sign(practitioner, patient, face, data_url(out.getvalue()))
    assert response.status_code == 302
    stored = ConsentSignature.objects.get().signature.read()
    assert stored.startswith(b"\x89PNG")
    assert PATIENT.encode() not in stored
    assert png_chunk_types(out.getvalue()).count(b"tEXt") == 1
    assert set(png_chunk_types(stored)) <= {b"IHDR", b"IDAT", b"IEND"}
