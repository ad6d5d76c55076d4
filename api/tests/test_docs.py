from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_docs_quote_the_tested_example_script():
    """docs/api.md shows docs/api_example.py verbatim: the script tests/browser/test_api_live.py
    runs against a live server is the one the docs show."""
    doc = (ROOT / "docs" / "api.md").read_text()
    assert (ROOT / "docs" / "api_example.py").read_text().strip() in doc
