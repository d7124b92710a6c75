import pytest

from ontology.errors import SymbolError
from ontology.iris import Minter
from ontology.symbols import from_roman, is_canonical, parse_symbol, to_roman


@pytest.mark.parametrize(
    ("text", "canonical", "path"),
    [
        ("X/15", "X/15", "cop/10/15"),
        ("decision X/15", "X/15", "cop/10/15"),
        ("decision 10/15", "X/15", "cop/10/15"),
        ("COP 10 decision 15", "X/15", "cop/10/15"),
        ("COP-10 decision 15", "X/15", "cop/10/15"),
        ("15/16", "15/16", "cop/15/16"),
        ("XV/16", "15/16", "cop/15/16"),
        ("XIV/24", "14/24", "cop/14/24"),
        ("I/3", "I/3", "cop/1/3"),
        ("BS-V/3", "BS-V/3", "cp/5/3"),
        ("BS-5/3", "BS-V/3", "cp/5/3"),
        ("CP-10/2", "CP-10/2", "cp/10/2"),
        ("NP-2/4", "NP-2/4", "np/2/4"),
        ("décision XI/2", "XI/2", "cop/11/2"),
    ],
)
def test_every_written_form_gives_one_canonical_symbol(text, canonical, path):
    s = parse_symbol(text)
    assert s.canonical == canonical
    assert s.path == path
    assert is_canonical(canonical)


@pytest.mark.parametrize("bad", ["X15", "decision", "IIII/3", "0/3", "X/0", "ZZ/1", "COP decision 15"])
def test_text_outside_the_grammar_is_refused(bad):
    with pytest.raises(SymbolError):
        parse_symbol(bad)


@pytest.mark.parametrize("bad", ["10/15", "XIV/24", "BS-9/1", "BS-IX/1", "CP-8/1", "x/15", "X/15 "])
def test_the_canonical_pattern_refuses_non_canonical_forms(bad):
    assert not is_canonical(bad)


def test_roman_numerals_round_trip():
    for n in range(1, 40):
        assert from_roman(to_roman(n)) == n


def test_minted_iris_are_the_same_whichever_way_the_symbol_is_written():
    m = Minter("http://example.org/hub")
    assert m.decision("decision 10/15") == m.decision("X/15") == "http://example.org/hub/decision/cop/10/15"
    assert m.decision_paragraph("15/16", "9 (f)") == "http://example.org/hub/decision/cop/15/16/para/9-f"
