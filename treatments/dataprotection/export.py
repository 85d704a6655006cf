"""The subject-access ZIP (GDPR Art. 15/20): data.json, summary.pdf, photos and signatures.

Bounded memory: the ZIP is written entry by entry into a spooled temporary file (in memory up
to SPOOL_BYTES, then on disk) and each stored file is copied in CHUNK_BYTES pieces, so a
patient with hundreds of photos costs disk, not RAM. The response streams that file back.
Photos and the PDF are already compressed; they are stored, only the JSON is deflated.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import zipfile
from typing import IO

import weasyprint
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone

from .selectors import PatientExport

log = logging.getLogger(__name__)

SPOOL_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 256 * 1024


def summary_pdf(export: PatientExport) -> bytes:
    """The human-readable summary, rendered from a template (no photos: they are files)."""
    html = render_to_string(
        "dataprotection/summary.html", {"data": export.data, "patient": export.patient}
    )
    return weasyprint.HTML(string=html).write_pdf()


def _entry(name: str, *, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=timezone.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    return info


def export_zip_write(export: PatientExport, out: IO[bytes]) -> None:
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        payload = json.dumps(export.data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        archive.writestr(_entry("data.json", compress=True), payload.encode())
        archive.writestr(_entry("summary.pdf", compress=False), summary_pdf(export))
        for item in export.files:
            try:
                source = default_storage.open(item.storage_name, "rb")
            except FileNotFoundError:
                # A file lost from storage must not cost the patient the rest of their data.
                log.warning("export of patient %s: %s is missing", export.patient.pk, item.arcname)
                archive.writestr(
                    _entry(f"{item.arcname}.missing.txt", compress=True),
                    b"This file is recorded but was not found in the clinic's storage.\n",
                )
                continue
            with (
                source,
                archive.open(_entry(item.arcname, compress=False), "w", force_zip64=True) as target,
            ):
                shutil.copyfileobj(source, target, CHUNK_BYTES)


def export_zip_file(export: PatientExport) -> IO[bytes]:
    """The ZIP in a temporary file, rewound; the caller closes it (FileResponse does)."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    try:
        export_zip_write(export, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
