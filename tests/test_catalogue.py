"""The Russian catalogue is complete, honest and compiled (README "Languages and time zones")."""

from django.utils import translation

from core.testing.catalogue import project_messages, read_catalogue, read_compiled

RUSSIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)


def _catalogue_keys(catalogue):
    return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)) for m in catalogue if m.id}


def test_every_marked_string_has_a_russian_entry():
    catalogue = read_catalogue()
    missing = project_messages() - _catalogue_keys(catalogue)
    assert not missing, (
        f"Marked for translation but not in locale/ru (run `make messages`): {sorted(map(str, missing))}"
    )


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalogue = read_catalogue()
    assert catalogue.plural_forms == RUSSIAN_PLURALS
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    untranslated = [
        m.id for m in catalogue if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    plurals_not_three = [m.id for m in catalogue if m.pluralizable and len(m.string) != 3]
    assert not fuzzy, f"Fuzzy entries: {fuzzy}"
    assert not untranslated, f"Untranslated entries: {untranslated}"
    assert not plurals_not_three, f"Plural entries without exactly three Russian forms: {plurals_not_three}"


def _entries(catalogue):
    # Babel's .mo reader gives contexts as bytes.
    return {(_text(m.context), _tuple(m.id)): _tuple(m.string) for m in catalogue if m.id}


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _tuple(value):
    return value if isinstance(value, str) else tuple(value)


def test_the_compiled_catalogue_matches_the_po_file():
    po = _entries(read_catalogue())
    mo = _entries(read_compiled())
    stale = sorted(str(key) for key in po.keys() ^ mo.keys() | {k for k in po.keys() & mo.keys() if po[k] != mo[k]})
    assert not stale, f"django.mo differs from django.po (run `make messages`): {stale}"


def test_russian_plural_forms_are_used_at_runtime():
    with translation.override("ru"):
        rendered = [
            translation.ngettext("%(counter)s client", "%(counter)s clients", n) % {"counter": n}
            for n in (1, 3, 5, 11, 21, 22, 25)
        ]
    assert rendered == [
        "1 клиент",
        "3 клиента",
        "5 клиентов",
        "11 клиентов",
        "21 клиент",
        "22 клиента",
        "25 клиентов",
    ]
