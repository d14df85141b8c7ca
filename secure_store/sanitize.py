"""Type sniffing and removal of identifying metadata, before anything is encrypted and stored.

The declared type and file name of an upload are never trusted: the type is sniffed from the
first bytes. Images are re-encoded from their pixels (dropping EXIF, GPS, maker notes, XMP, ICC
descriptions and PNG text chunks, after applying the EXIF orientation). PDFs are rebuilt page by
page without the document information dictionary, XMP metadata, document-level scripts, embedded
files or page metadata. Videos cannot be rewritten with the libraries here: they are stored as
sent and the reporter is told so before uploading.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import filetype
from PIL import Image, ImageOps

# Pillow logs EXIF tag values (camera serials, artist, GPS) at DEBUG: never let that reach a log.
logging.getLogger("PIL").setLevel(logging.WARNING)
Image.MAX_IMAGE_PIXELS = 60_000_000  # ~ a 60-megapixel photo; beyond that is a bomb, not evidence

MiB = 1024 * 1024


@dataclass(frozen=True)
class Kind:
    mime: str
    label: str
    max_bytes: int
    sanitizer: str  # "image" | "pdf" | "none"
    extension: str


KINDS: dict[str, Kind] = {
    "image/jpeg": Kind("image/jpeg", "JPEG图片", 15 * MiB, "image", "jpg"),
    "image/png": Kind("image/png", "PNG图片", 15 * MiB, "image", "png"),
    "image/webp": Kind("image/webp", "WebP图片", 15 * MiB, "image", "webp"),
    "image/gif": Kind("image/gif", "GIF图片", 15 * MiB, "image", "png"),
    "application/pdf": Kind("application/pdf", "PDF文件", 20 * MiB, "pdf", "pdf"),
    "video/mp4": Kind("video/mp4", "MP4视频", 200 * MiB, "none", "mp4"),
    "video/quicktime": Kind("video/quicktime", "MOV视频", 200 * MiB, "none", "mov"),
    "video/webm": Kind("video/webm", "WebM视频", 200 * MiB, "none", "webm"),
    "video/3gpp": Kind("video/3gpp", "3GP视频", 200 * MiB, "none", "3gp"),
}
MAX_FILE_BYTES = max(k.max_bytes for k in KINDS.values())


class RejectedFile(ValueError):
    """The upload is not acceptable; ``str(exc)`` is a Chinese message for the reporter."""


def sniff(head: bytes) -> Kind | None:
    if head.startswith(b"%PDF-"):
        return KINDS["application/pdf"]
    guess = filetype.guess(head)
    if guess is None:
        return None
    return KINDS.get(guess.mime)


def strip_image(data: bytes, kind: Kind) -> tuple[bytes, str]:
    """Re-encode an image from its pixels. Returns (bytes, mime of the output)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            img = Image.open(io.BytesIO(data))
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RejectedFile("图片尺寸过大（像素过多），请压缩后再上传") from exc
    except Exception as exc:  # Pillow raises many types for corrupt input
        raise RejectedFile("图片文件已损坏或格式不正确，无法读取") from exc
    img = ImageOps.exif_transpose(img)
    out = io.BytesIO()
    if kind.mime == "image/jpeg":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        clean = Image.new(img.mode, img.size)
        clean.paste(img)
        clean.save(out, format="JPEG", quality=90, optimize=True)
        return out.getvalue(), "image/jpeg"
    if kind.mime == "image/webp":
        clean = Image.new("RGBA" if "A" in img.getbands() else "RGB", img.size)
        clean.paste(img.convert(clean.mode))
        clean.save(out, format="WEBP", quality=90)
        return out.getvalue(), "image/webp"
    # PNG and GIF (first frame) are written as PNG without text chunks.
    mode = "RGBA" if ("A" in img.getbands() or img.mode == "P") else "RGB"
    clean = Image.new(mode, img.size)
    clean.paste(img.convert(mode))
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue(), "image/png"


_ACTIVE = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute"}


def _strip_annotation_actions(page) -> None:  # type: ignore[no-untyped-def]
    """Staff open evidence PDFs: links and widgets must not run scripts, launch programs or send
    forms. The document-level actions (/OpenAction, /Names/JavaScript) are not copied at all,
    because the writer rebuilds the file page by page."""
    from pypdf.generic import NameObject

    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if "/AA" in annot:
            del annot[NameObject("/AA")]
        action = annot.get("/A")
        if action is not None and action.get_object().get("/S") in _ACTIVE:
            del annot[NameObject("/A")]


def strip_pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise RejectedFile("PDF文件设置了密码，无法处理，请去除密码后再上传")
        writer = PdfWriter()
        for page in reader.pages:
            for key in ("/Metadata", "/PieceInfo", "/AA"):
                if key in page:
                    del page[NameObject(key)]
            _strip_annotation_actions(page)
            writer.add_page(page)
        writer.metadata = None
        out = io.BytesIO()
        writer.write(out)
    except RejectedFile:
        raise
    except Exception as exc:
        raise RejectedFile("PDF文件已损坏或格式不正确，无法读取") from exc
    return out.getvalue()


def sanitize(data: bytes, kind: Kind) -> tuple[bytes, str]:
    """Metadata-free bytes and the resulting MIME type for an image or PDF."""
    if kind.sanitizer == "image":
        return strip_image(data, kind)
    if kind.sanitizer == "pdf":
        return strip_pdf(data), "application/pdf"
    return data, kind.mime
