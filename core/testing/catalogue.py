"""The project's translatable strings, found without GNU gettext, and the Russian catalogue.

`project_messages()` reads what `make messages` (makemessages) would extract:
Python files with Babel's Python extractor, templates through Django's own
`templatize` (the same step makemessages runs before xgettext). The catalogue
test and the browser tests' "no English left" check both use it."""

import io
from pathlib import Path

from babel.messages.extract import extract_python
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "ru" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
# The same places `make messages` leaves out (MAKEMESSAGES_ARGS in the Makefile).
SKIP_DIRS = {".venv", "var", "bench", "tests", "static", "node_modules", "locale", ".git", ".ci", "docs"}
# makemessages' keywords for Python (django.core.management.commands.makemessages).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def project_files():
    for path in sorted(BASE_DIR.rglob("*")):
        relative = path.relative_to(BASE_DIR)
        if set(relative.parts[:-1]) & SKIP_DIRS or relative.parts[0] in SKIP_DIRS:
            continue
        if path.is_file() and path.suffix in {".py", ".html", ".txt"}:
            yield path


def _messages_of(path: Path):
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        # Indentation means nothing there, and Python's tokenizer would trip over it.
        source = "\n".join(line.lstrip() for line in templatize(source, origin=str(path)).splitlines())
    # templatize's output is Python-like code with gettext calls; Babel reads both.
    stream = io.BytesIO(source.encode("utf-8"))
    for _lineno, funcname, message, _comments in extract_python(stream, KEYWORDS.keys(), [], {"encoding": "utf-8"}):
        yield message, funcname


def _key(message, funcname):
    """(context, msgid or (singular, plural)) as the catalogue keys it."""
    spec = KEYWORDS.get(funcname)
    parts = message if isinstance(message, tuple) else (message,)
    if spec is None:
        return None, parts[0]
    context = None
    strings = []
    for index, part in zip(spec, parts, strict=False):
        if isinstance(index, tuple):
            context = part
        else:
            strings.append(part)
    return context, tuple(strings) if len(strings) > 1 else strings[0]


def project_messages() -> set:
    """Every (context, msgid) of the code; plural ones as (context, (singular, plural))."""
    found = set()
    for path in project_files():
        for message, funcname in _messages_of(path):
            context, msgid = _key(message, funcname)
            if msgid and (isinstance(msgid, str) or all(msgid)):
                found.add((context, msgid))
    return found


def read_catalogue():
    with PO_PATH.open("rb") as handle:
        return read_po(handle, locale="ru")


def read_compiled():
    with MO_PATH.open("rb") as handle:
        return read_mo(handle)


def english_msgids() -> set[str]:
    """Every English source string of the catalogue (singular and plural)."""
    texts = set()
    for message in read_catalogue():
        if message.id:
            texts.update(message.id if isinstance(message.id, tuple) else (message.id,))
    return texts
