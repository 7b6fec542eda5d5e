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
