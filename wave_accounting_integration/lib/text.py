"""Plain-text helpers for the sentences users read."""


def one_final_period(sentence):
    """``sentence`` without the doubled final period a name ending in one gives
    ("... for Acme Widgets Inc.." reads "... for Acme Widgets Inc.")."""
    text = str(sentence)
    if text.endswith("..") and not text.endswith("..."):
        return text[:-1]
    return text


def by_count(count, singular, plural, **values):
    """The sentence for ``count`` things: ``singular`` for one, ``plural`` otherwise.

    Both are passed already translated, each in its own ``_()`` call so that both
    are exported for translators ("1 invoice", "2 invoices"), with their
    ``%(name)s`` placeholders left unfilled; they are filled here with ``count``
    (as ``%(count)s``) and ``values``.
    """
    values.setdefault("count", count)
    return (singular if count == 1 else plural) % values
