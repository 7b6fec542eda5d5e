"""Sentences built around a name: no doubled final period (issue 19 saw
"… for Acme Widgets Inc.." on a screen)."""

import pytest


@pytest.mark.parametrize(
    ("sentence", "shown"),
    [
        (
            "Waiting in quarantine for Acme Widgets Inc..",
            "Waiting in quarantine for Acme Widgets Inc.",
        ),
        (
            "Only Globex was linked; check ACME Widgets, Inc..",
            "Only Globex was linked; check ACME Widgets, Inc.",
        ),
        ("Waiting in quarantine for Globex.", "Waiting in quarantine for Globex."),
        ("And more...", "And more..."),
        ("", ""),
    ],
)
def test_one_final_period(lib, sentence, shown):
    from wave_client_lib.text import one_final_period

    assert one_final_period(sentence) == shown


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 invoices for Globex"),
        (1, "1 invoice for Globex"),
        (2, "2 invoices for Globex"),
    ],
)
def test_by_count(lib, count, shown):
    from wave_client_lib.text import by_count

    assert (
        by_count(count, "1 invoice for %(name)s", "%(count)s invoices for %(name)s", name="Globex")
        == shown
    )
