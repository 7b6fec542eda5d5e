"""Plain-text helpers for the sentences users read."""


def one_final_period(sentence):
    """``sentence`` without the doubled final period a name ending in one gives
    ("... for Acme Widgets Inc.." reads "... for Acme Widgets Inc.")."""
    text = str(sentence)
    if text.endswith("..") and not text.endswith("..."):
        return text[:-1]
    return text
