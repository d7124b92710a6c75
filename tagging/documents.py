"""Submitted documents → plain text, with their format checked and their language detected.

Formats: plain text, Markdown (markdown-it-py), HTML (Beautiful Soup), PDF (pypdf) and DOCX
(python-docx). The format is taken from the file's content first (PDF and ZIP magic bytes), then
from its name or declared media type; a file whose bytes contradict its name is refused rather
than guessed at. Language: given, or detected with py3langid over every language it knows, so
that text in a language the tagger does not cover is refused with a name, not mis-tagged.

>>> doc = extract(b"# Protected areas\\n\\nParties shall establish protected areas.", "note.md")
>>> doc.format, doc.title, doc.language
('text/markdown', 'Protected areas', 'en')
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from ontology.errors import ChmError

LANGUAGES = ("en", "fr", "es")
DEFAULT_MAX_BYTES = 10_000_000


class DocumentError(ChmError):
    """A submitted document the hub cannot read."""

    code = "E601"
    http_status = 422


class EmptyDocument(DocumentError):
    code = "E602"
    http_status = 422


class DocumentTooLarge(DocumentError):
    code = "E603"
    http_status = 413


class UnsupportedFormat(DocumentError):
    code = "E604"
    http_status = 415


class UnsupportedLanguage(DocumentError):
    code = "E605"
    http_status = 422


FORMATS = {  # media type → file name suffixes
    "text/plain": (".txt", ".text"),
    "text/markdown": (".md", ".markdown"),
    "text/html": (".html", ".htm", ".xhtml"),
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
}
_BY_SUFFIX = {suffix: media for media, suffixes in FORMATS.items() for suffix in suffixes}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Document:
    """A document as the tagger sees it."""

    text: str
    title: str
    language: str
    format: str  # media type
    filename: str
    size: int
    language_detected: bool = True


def safe_filename(name: str) -> str:
    """The last path segment of a client-given name, without control characters (no traversal)."""
    base = PurePath(name.replace("\\", "/")).name
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return base[:200] or "document"


def detect_format(data: bytes, filename: str, media_type: str | None = None) -> str:
    suffix = PurePath(filename.lower()).suffix
    claimed = _BY_SUFFIX.get(suffix) or (media_type.split(";")[0].strip().lower() if media_type else None)
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        if claimed not in (DOCX, None) and claimed != "application/octet-stream":
            raise UnsupportedFormat(f"{filename}: the file is a ZIP archive, not {claimed}")
        return DOCX
    if claimed in ("application/pdf", DOCX):
        raise DocumentError(f"{filename}: the name says {'PDF' if claimed == 'application/pdf' else 'DOCX'} "
                            "but the content is not (no PDF header / not a ZIP archive)")
    if claimed in FORMATS:
        return claimed
    if suffix and suffix not in _BY_SUFFIX and claimed in (None, "application/octet-stream"):
        raise UnsupportedFormat(f"{filename}: {suffix} files are not supported (supported: {', '.join(sorted(_BY_SUFFIX))})")
    if claimed in (None, "application/octet-stream", "text/x-markdown"):
        return "text/markdown" if claimed == "text/x-markdown" else "text/plain"
    raise UnsupportedFormat(f"{filename}: format {claimed or suffix!r} is not supported "
                            f"(supported: {', '.join(sorted(_BY_SUFFIX))})")


def _decode(data: bytes, filename: str) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{filename}: binary content (NUL bytes) in a text file")
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DocumentError(f"{filename}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None


def _markdown(text: str) -> tuple[str, str]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    parts, title, in_heading = [], "", False
    for tok in tokens:
        if tok.type == "heading_open":
            in_heading = True
        elif tok.type == "heading_close":
            in_heading = False
        elif tok.type == "inline":
            content = "".join(c.content for c in (tok.children or []) if c.type in ("text", "code_inline"))
            if in_heading and not title:
                title = content
            parts.append(content)
        elif tok.type in ("fence", "code_block"):
            parts.append(tok.content)
    return "\n\n".join(parts), title


def _html(text: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if not title and (h := soup.find(["h1", "h2"])):
        title = h.get_text(" ", strip=True)
    if soup.title:
        soup.title.decompose()
    return soup.get_text("\n", strip=True), title


def _pdf(data: bytes, filename: str) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{filename}: the PDF is encrypted; submit an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "")
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as e:
        raise DocumentError(f"{filename}: the PDF cannot be read ({type(e).__name__}: {e})") from None
    return "\n".join(pages), title


# A DOCX is a ZIP archive: bounded before anything is decompressed (zipfile reads an entry up to its
# declared size and fails the CRC past it, so the declared sizes bound the real work).
MAX_ZIP_ENTRIES = 1_000
MAX_UNCOMPRESSED = 100_000_000  # bytes, all entries together
MAX_RATIO = 200  # uncompressed / compressed, per entry larger than 1 MB


def check_archive(entries: list[zipfile.ZipInfo], filename: str) -> None:
    """Refuse a ZIP bomb: too many entries, too much uncompressed data, or a too high compression ratio."""
    if len(entries) > MAX_ZIP_ENTRIES:
        raise DocumentTooLarge(f"{filename}: the archive holds {len(entries):,} entries; at most {MAX_ZIP_ENTRIES:,} are read")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED:
        raise DocumentTooLarge(f"{filename}: the archive unpacks to {total:,} bytes; at most {MAX_UNCOMPRESSED:,} are read")
    for e in entries:
        if e.file_size > 1_000_000 and e.file_size > MAX_RATIO * max(e.compress_size, 1):
            raise DocumentTooLarge(f"{filename}: {e.filename} is compressed {e.file_size // max(e.compress_size, 1):,}:1; "
                                   f"more than {MAX_RATIO}:1 looks like a ZIP bomb and is not read")


def _docx(data: bytes, filename: str) -> tuple[str, str]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            check_archive(z.infolist(), filename)
            if "word/document.xml" not in z.namelist():
                raise DocumentError(f"{filename}: a ZIP archive without word/document.xml is not a DOCX document")
        d = docx.Document(io.BytesIO(data))
    except DocumentError:
        raise
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as e:
        raise DocumentError(f"{filename}: the DOCX cannot be read ({type(e).__name__}: {e})") from None
    paragraphs = [p.text for p in d.paragraphs]
    title = d.core_properties.title or next((p.text for p in d.paragraphs if p.style is not None and
                                             p.style.name.lower().startswith(("title", "heading")) and p.text.strip()), "")
    return "\n".join(paragraphs), title


def first_paragraph(text: str) -> str:
    """The first line with words in it, continued by the next lines while they carry on its phrase
    (a Markdown hard break, or a next line starting in lower case: "Regional Workshop for Asia /
    on the Clearing-House Mechanism")."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not re.search(r"\w{3,}", line):
            continue
        block, previous = [line.strip()], line
        for nxt in lines[i + 1:]:
            follow = nxt.strip()
            carries_on = previous.endswith("  ") or _MARKUP.sub("", follow)[:1].islower()
            if not follow or not carries_on:
                break
            block.append(follow)
            previous = nxt
        return " ".join(block)
    return ""


_MARKUP = re.compile(r"(?<!\w)[*_]{1,3}|[*_]{1,3}(?!\w)|^#{1,6}\s+|`+|\[\^?\d+\]")
TITLE_MAX = 200


def clean_title(title: str) -> str:
    """A title as a reader should see it: without Markdown marks (emphasis, heading hashes, footnote
    marks), on one line, and, when too long, cut after a sentence or clause or between words (…)."""
    t = " ".join(_MARKUP.sub("", " ".join(title.split())).split()).strip(" -–—:;,")
    if len(t) <= TITLE_MAX:
        return t
    head = t[:TITLE_MAX]
    cut = max(head.rfind(". "), head.rfind(": "), head.rfind("; "), head.rfind(" – "))
    if cut >= 12:
        return head[:cut].rstrip(" .:;–")
    return head[:head.rfind(" ")].rstrip(" ,;:–") + "…"


_identifier = None


def detect_language(text: str) -> tuple[str, float]:
    """The most likely language of ``text`` (ISO 639-1) and its probability, over all languages."""
    global _identifier
    if _identifier is None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    sample = text[:20000]
    lang, prob = _identifier.classify(sample)
    return lang, float(prob)


def extract(data: bytes, filename: str, media_type: str | None = None, language: str | None = None,
            max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read a submitted file; raise a :class:`DocumentError` naming the problem otherwise."""
    name = safe_filename(filename)
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{name}: {len(data):,} bytes is over the limit of {max_bytes:,} bytes")
    if not data.strip():
        raise EmptyDocument(f"{name}: the file is empty")
    fmt = detect_format(data, name, media_type)
    if fmt == "application/pdf":
        text, title = _pdf(data, name)
    elif fmt == DOCX:
        text, title = _docx(data, name)
    else:
        raw = _decode(data, name)
        if fmt == "text/markdown":
            text, title = _markdown(raw)
        elif fmt == "text/html":
            text, title = _html(raw)
        else:
            text, title = raw, ""
    text = unicodedata.normalize("NFC", text)
    if not re.search(r"\w{2,}", text):
        raise EmptyDocument(f"{name}: no text could be extracted (a scanned PDF needs OCR first)")
    if not title:
        title = first_paragraph(text) or name
    title = clean_title(title) or name
    detected = language is None
    if language is None:
        language, _prob = detect_language(text)
    language = language.lower()
    if language not in LANGUAGES:
        raise UnsupportedLanguage(f"{name}: the text is in {language!r}; the tagger covers {', '.join(LANGUAGES)}")
    return Document(text, title, language, fmt, name, len(data), detected)
