# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The one "newer Wave version?" rule (lib/wave_versions): Odoo holds change times to
the second, Wave's ``modifiedAt`` is finer, so in the same second the content decides."""

import datetime as dt

from odoo.tests import BaseCase, tagged

from ..lib.wave_versions import content_fingerprint, held_time, is_newer_wave_version
from ..mappers.invoice_inbound import wave_version_key

HELD = dt.datetime(2025, 3, 4, 10, 20, 30)  # as Odoo holds it: to the second


def _never():
    raise AssertionError("the content is compared only when the times are equal")


@tagged("post_install", "-at_install")
class TestWaveVersions(BaseCase):
    def test_another_second_decides_without_the_content(self):
        self.assertTrue(is_newer_wave_version("2025-03-04T10:20:31.000Z", HELD, _never))
        self.assertFalse(is_newer_wave_version("2025-03-04T10:20:29.999Z", HELD, _never))
        self.assertFalse(is_newer_wave_version(HELD - dt.timedelta(days=1), HELD, _never))

    def test_same_second_the_content_decides(self):
        for modified_at in ("2025-03-04T10:20:30.000Z", "2025-03-04T10:20:30.999Z"):
            self.assertTrue(is_newer_wave_version(modified_at, HELD, True), modified_at)
            self.assertFalse(is_newer_wave_version(modified_at, HELD, False), modified_at)
        fine = HELD.replace(microsecond=900_000, tzinfo=dt.UTC)
        self.assertTrue(is_newer_wave_version(fine, HELD, lambda: True))
        self.assertFalse(is_newer_wave_version(fine, HELD, lambda: False))

    def test_held_time_is_to_the_second(self):
        self.assertEqual(held_time("2025-03-04T10:20:30.456Z"), HELD)
        self.assertEqual(held_time(HELD.replace(microsecond=456_000)), HELD)
        self.assertFalse(held_time(None))

    def test_fingerprint_sees_the_content_not_the_volatile_keys(self):
        node = {
            "id": "inv-1",
            "modifiedAt": "2025-03-04T10:20:30.100Z",
            "status": "SENT",
            "items": [{"quantity": "2", "unitPrice": "10.5"}],
        }
        paid = dict(node, modifiedAt="2025-03-04T10:20:30.900Z", status="PAID")
        edited = dict(node, items=[{"quantity": "3", "unitPrice": "10.5"}])
        self.assertEqual(wave_version_key(node), wave_version_key(paid))
        self.assertNotEqual(wave_version_key(node), wave_version_key(edited))
        self.assertNotEqual(content_fingerprint(node), content_fingerprint(paid))
        self.assertEqual(
            content_fingerprint(node, {"modifiedAt", "status"}), wave_version_key(paid)
        )
