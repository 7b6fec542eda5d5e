"""The expected review list of the realistic sandbox data, and its comparison with a
quarantine (pure: the sandbox's state in memory, no Odoo)."""

import unittest

from independent_parity.review import expected_review, review_mismatches, unexplained
from wave_sandbox import generator, store

LOOK_ALIKES = ("Café Déjà Vu", "Cafe Deja Vu")
ODOO_CURRENCIES = {"USD", "CAD", "EUR", "CHF", "SEK", "JPY"}  # EEK: Wave only


class TestExpectedReview(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.state = store.State(20261128)
        businesses = generator.seed_demo(
            cls.state, invoices_per_business=40, customers=20, vendors=2, years=1, realistic=True
        )
        cls.business = next(b for b in businesses if b.currency_code == "USD")
        cls.expected = expected_review(cls.state, cls.business.id, ODOO_CURRENCIES, LOOK_ALIKES)

    def invoices(self, kind):
        return [self.state.objects[w] for w, kinds in self.expected.items() if kind in kinds]

    def test_lists_wave_only_currencies_and_ambiguous_customers_only(self):
        cases = self.state.realistic_cases[self.business.id]
        currency, contact = self.invoices("currency"), self.invoices("contact")
        self.assertTrue(currency and contact, self.expected)
        self.assertEqual({i.currency_code for i in currency}, {"EEK"})
        self.assertEqual({i.customer.name for i in contact}, set(LOOK_ALIKES))
        approved_eek = {w for w in cases["foreign_wave_only"] if self.state.objects[w].approved}
        self.assertEqual({i.id for i in currency}, approved_eek)
        # never a draft (not imported by default) nor a deleted invoice
        self.assertTrue(all(i.approved and not i.deleted for i in currency + contact))

    def test_an_odoo_currency_is_not_expected(self):
        with self.assertRaises(AssertionError):
            expected_review(self.state, self.business.id, {*ODOO_CURRENCIES, "EEK"})

    def test_mismatches(self):
        (first, kinds), *rest = self.expected.items()
        entries = [self._entry(w, k) for w, k in rest]
        self.assertEqual(
            review_mismatches(self.expected, [*entries, self._entry(first, kinds)]),
            {"missing": [], "unexpected": [], "wrong_reason": []},
        )
        found = review_mismatches(
            self.expected,
            [*entries, {"wave_id": "other", "record_type": "account.move", "reasons": "Tax"}],
        )
        self.assertEqual(found["missing"], [first])
        self.assertEqual([u[0] for u in found["unexpected"]], ["other"])
        wrong = {"wave_id": first, "record_type": "account.move", "reasons": "Odd tax rounding"}
        found = review_mismatches(self.expected, [*entries, wrong])
        self.assertEqual([w[0] for w in found["wrong_reason"]], [first])

    @staticmethod
    def _entry(wave_id, kinds):
        words = {"currency": "Odoo has no currency EEK.", "contact": "Wave customer X ..."}
        return {
            "wave_id": wave_id,
            "record_type": "account.move",
            "reasons": " ".join(words[k] for k in kinds),
        }

    def test_unexplained_keeps_all_but_waiting_invoices_and_wave_look_alikes(self):
        differences = [
            {"kind": "missing_in_odoo", "record": "invoice", "key": "11", "wave": "", "odoo": ""},
            {"kind": "missing_in_odoo", "record": "invoice", "key": "12", "wave": "", "odoo": ""},
            {"kind": "duplicate_in_wave", "record": "customer", "key": "n", "wave": "[a, b]"},
            {"kind": "duplicate_in_odoo", "record": "customer", "key": "n", "odoo": "[7, 9]"},
            {"kind": "duplicate_in_odoo", "record": "customer", "key": "m", "odoo": "[7, 9]"},
        ]
        left = unexplained(differences, allowed_missing={"11"})
        self.assertEqual(
            [(d["kind"], d["key"]) for d in left],
            [("missing_in_odoo", "12"), ("duplicate_in_odoo", "m")],
        )


if __name__ == "__main__":
    unittest.main()
