"""Sentences built around a name: no doubled period after a name ending in one
(issue 19 saw "… Acme Widgets Inc.." on a screen)."""

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
        (
            "linked to the Wave business Acme Widgets Inc.. Choosing Maple Leaf Ltd. would",
            "linked to the Wave business Acme Widgets Inc. Choosing Maple Leaf Ltd. would",
        ),
        (
            "Notifications go to Ann Lee Jr..\nNext line",
            "Notifications go to Ann Lee Jr.\nNext line",
        ),
        ("Waiting in quarantine for Globex.", "Waiting in quarantine for Globex."),
        ("See ../docs and v1..v2.", "See ../docs and v1..v2."),
        ("And more...", "And more..."),
        ("", ""),
    ],
)
def test_no_doubled_period(lib, sentence, shown):
    from wave_client_lib.text import no_doubled_period

    assert no_doubled_period(sentence) == shown


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
