"""The one way the project compares email addresses."""


def normalize_email(value: str) -> str:
    """Addresses are stored and compared trimmed and lower-cased: one account,
    or one client per owner, per address."""
    return (value or "").strip().lower()
