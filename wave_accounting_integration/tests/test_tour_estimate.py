# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tour: a salesperson opens a quotation that came from a Wave estimate (headless Chromium).

The estimate is created and sent in the sandbox with plain GraphQL, imported by the
poll, and the quotation is opened by a user who is only a salesperson (no Wave
group): the form shows the Wave number, the Wave status and the link to Wave.
"""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WaveSandboxCommon
from .test_estimates import EstimateCase


@tagged("post_install", "-at_install")
class TestEstimateTour(EstimateCase, WaveSandboxCommon, HttpCase):
    sandbox_invoices = 0
    sandbox_customers = 4
    sandbox_vendors = 1

    def test_salesperson_sees_wave_status_and_link(self):
        company = self.company_data["company"]
        salesperson = new_test_user(
            self.env,
            login="wave_salesperson",
            groups="base.group_user,sales_team.group_sale_salesman",
            company_id=company.id,
            company_ids=[company.id],
        )
        self.env["wave.reference.importer"]._sync_accounts(self.connection)
        eid = self.create_estimate(estimateNumber="EST-TOUR-7")
        self.act("estimateApprove", eid)
        self.act("estimateMarkSent", eid, sendMethod="MARKED_SENT")
        for entity in ("customers", "estimates"):
            self.connection._job_poll(entity, trigger="manual")
        order = self.order_of(eid)
        self.assertEqual((order.state, order.wave_status), ("sent", "SENT"))
        # "My quotations": a salesperson reads the orders they sell.
        order.user_id = salesperson
        self.assertTrue(order.wave_url.endswith("/view"))

        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "wave_estimate_quotation_tour",
            login="wave_salesperson",
            timeout=120,
        )
        # The fields, not the Wave screens: the connection stays closed to a salesperson.
        with self.assertRaises(AccessError):
            self.env["wave.api"].with_user(salesperson).search([])
        with self.assertRaises(AccessError):
            order.with_user(salesperson).read(["wave_cancel_reason"])
