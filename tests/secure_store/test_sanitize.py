import io

import pytest
from PIL import Image

from secure_store.sanitize import KINDS, RejectedFile, sanitize, sniff
from tests.conftest import jpeg_with_exif, pdf_with_author


def test_sniffing_ignores_names_and_declared_types() -> None:
    assert sniff(jpeg_with_exif()).mime == "image/jpeg"
    assert sniff(pdf_with_author()).mime == "application/pdf"
    assert sniff(b"MZ\x90\x00 windows executable") is None
    assert sniff(b"<html><script>alert(1)</script>") is None


def test_jpeg_exif_gps_and_serials_are_removed_pixels_kept() -> None:
    raw = jpeg_with_exif("CANARY-EXIF")
    assert b"CANARY-EXIF" in raw
    clean, mime = sanitize(raw, KINDS["image/jpeg"])
    assert mime == "image/jpeg"
    assert b"CANARY" not in clean and b"CanaryMaker" not in clean
    img = Image.open(io.BytesIO(clean))
    assert img.size == (64, 48)
    assert not img.getexif()


def test_png_text_chunks_are_removed() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "CANARY-PNG")
    out = io.BytesIO()
    Image.new("RGBA", (10, 10)).save(out, format="PNG", pnginfo=info)
    clean, mime = sanitize(out.getvalue(), KINDS["image/png"])
    assert b"CANARY-PNG" not in clean and mime == "image/png"


def test_pdf_author_and_creator_are_removed() -> None:
    raw = pdf_with_author("CANARY-AUTHOR")
    clean, _ = sanitize(raw, KINDS["application/pdf"])
    assert b"CANARY" not in clean
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(clean)).pages) == 1


def test_corrupt_and_bomb_images_are_rejected_with_chinese_messages() -> None:
    with pytest.raises(RejectedFile, match="图片"):
        sanitize(jpeg_with_exif()[:200], KINDS["image/jpeg"])
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, format="PNG")  # 144 Mpx, a few KB on disk
    with pytest.raises(RejectedFile, match="像素过多"):
        sanitize(out.getvalue(), KINDS["image/png"])
    with pytest.raises(RejectedFile, match="PDF"):
        sanitize(b"%PDF-1.7\n garbage", KINDS["application/pdf"])
