"""Plain-text helpers for the sentences users read."""

import re

#: A period doubled by a name that ends in one ("Inc." + "."), before a space or the
#: end of the sentence; an ellipsis ("...") and a path ("../") are left alone.
DOUBLED_PERIOD = re.compile(r"(?<!\.)\.\.(?=\s|$)")


def no_doubled_period(sentence):
    """``sentence`` without the doubled period a name ending in one gives, wherever
    the name stands ("... business Acme Widgets Inc.. Choosing ..." reads
    "... business Acme Widgets Inc. Choosing ...")."""
    return DOUBLED_PERIOD.sub(".", str(sentence))


def by_count(count, singular, plural, **values):
    """The sentence for ``count`` things: ``singular`` for one, ``plural`` otherwise.

    Both are passed already translated, each in its own ``_()`` call so that both
    are exported for translators ("1 invoice", "2 invoices"), with their
    ``%(name)s`` placeholders left unfilled; they are filled here with ``count``
    (as ``%(count)s``) and ``values``.
    """
    values.setdefault("count", count)
    return (singular if count == 1 else plural) % values
