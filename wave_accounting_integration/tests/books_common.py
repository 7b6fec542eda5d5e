# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The shared setup of the books-match tests (issue 16), against the sandbox."""

from .common import WaveSandboxCommon


class WaveBooksCommon(WaveSandboxCommon):
    """The sandbox's operations and state, the US business's customer invoiced in the
    business's currency, a product, the sandbox's today, and Wave's accounts mapped."""

    @classmethod
    def _books_product(cls, business):
        """The product the tests invoice (a subclass may want one with sales taxes)."""
        return business.products[0]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import ops

        cls.ops = ops
        cls.state = cls.sandbox.state
        b = cls.wave_us
        cls.customer = next(c for c in b.customers if not c.currency_code)
        cls.product = cls._books_product(b)
        cls.today = cls.state.today()
        cls.env["wave.reference.importer"]._sync_accounts(cls.connection)
