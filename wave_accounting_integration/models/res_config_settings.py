# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Settings → Wave: the current company's connection, edited through the settings screen.

Values are per company, so they live on the company's ``wave.api`` record rather
than in global ``ir.config_parameter`` entries. Secrets are write-only here: the
screen never receives a stored secret back, an empty field keeps the stored one.
"""

from odoo import _, api, fields, models

from ..services.books_setup import CURRENCY_POLICIES
from .wave_api import (
    CONFLICT_POLICIES,
    ESTIMATE_EXPORT_POLICIES,
    PARTNER_CREATION_POLICIES,
    WAVE_AUTHORIZE_URL,
    WAVE_GRAPHQL_URL,
    WAVE_TOKEN_URL,
)

# Settings field -> wave.api field, for the plain (non-secret) values.
CONNECTION_FIELDS = {
    "wave_auth_method": "auth_method",
    "wave_api_url": "api_url",
    "wave_authorize_url": "authorize_url",
    "wave_token_url": "token_url",
    "wave_allow_insecure_loopback": "allow_insecure_loopback",
    "wave_client_id": "client_id",
    "wave_business_id": "business_id",
    "wave_rate_limit": "rate_limit",
    "wave_rate_window": "rate_window",
    "wave_sync_inbound": "sync_inbound",
    "wave_sync_outbound": "sync_outbound",
    "wave_import_draft_invoices": "import_draft_invoices",
    "wave_sync_estimates": "sync_estimates",
    "wave_estimate_accept_policy": "estimate_accept_policy",
    "wave_currency_policy": "currency_policy",
    "wave_export_on_post": "export_on_post",
    "wave_invoice_send_mode": "invoice_send_mode",
    "wave_estimate_export": "estimate_export",
    "wave_allow_sales_tax_create": "allow_sales_tax_create",
    "wave_customer_creation_policy": "customer_creation_policy",
    "wave_vendor_creation_policy": "vendor_creation_policy",
    "wave_fuzzy_match_threshold": "fuzzy_match_threshold",
    "wave_unmapped_account_policy": "unmapped_account_policy",
    "wave_suspense_account_id": "suspense_account_id",
    "wave_conflict_policy_amounts": "conflict_policy_amounts",
    "wave_conflict_policy_taxes": "conflict_policy_taxes",
    "wave_conflict_policy_partner": "conflict_policy_partner",
    "wave_conflict_policy_other": "conflict_policy_other",
    "wave_compensate_odoo_side": "compensate_odoo_side",
    "wave_failure_notify_threshold": "failure_notify_threshold",
    "wave_request_log_retention_days": "request_log_retention_days",
}
# Settings field -> wave.api field, for secrets: written when filled, never read back.
SECRET_FIELDS = {
    "wave_client_secret": "client_secret",
    "wave_full_access_token": "full_access_token",
    "wave_webhook_secret": "webhook_secret",
}


def _plain(value):
    """A field value as settings store it: records become their id."""
    return value.id if isinstance(value, models.BaseModel) else value


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    wave_connection_id = fields.Many2one("wave.api", compute="_compute_wave_connection_id")
    wave_state = fields.Selection(related="wave_connection_id.state")
    wave_business_name = fields.Char(related="wave_connection_id.business_name")
    # The saved method: the Connect button shows as soon as the method is changed.
    wave_saved_auth_method = fields.Selection(related="wave_connection_id.auth_method")
    wave_webhook_url = fields.Char(related="wave_connection_id.webhook_url")

    wave_auth_method = fields.Selection(
        [("oauth", "OAuth2 (Connect to Wave)"), ("token", "Full-access token")],
        string="Authentication",
        default="oauth",
    )
    wave_api_url = fields.Char(string="GraphQL endpoint", default=WAVE_GRAPHQL_URL)
    wave_authorize_url = fields.Char(string="OAuth authorize URL", default=WAVE_AUTHORIZE_URL)
    wave_token_url = fields.Char(string="OAuth token URL", default=WAVE_TOKEN_URL)
    wave_allow_insecure_loopback = fields.Boolean(string="Allow HTTP to a local test server")
    wave_client_id = fields.Char(string="Client ID")
    wave_client_secret = fields.Char(string="Client secret")
    wave_full_access_token = fields.Char(string="Full-access token")
    wave_webhook_secret = fields.Char(string="Webhook signing secret")
    wave_business_id = fields.Char(string="Wave business ID")
    wave_rate_limit = fields.Integer(string="Requests per window", default=60)
    wave_rate_window = fields.Integer(string="Window (seconds)", default=60)
    wave_sync_inbound = fields.Boolean(string="Import from Wave", default=True)
    wave_sync_outbound = fields.Boolean(string="Export to Wave")
    wave_import_draft_invoices = fields.Boolean(string="Import draft invoices")
    wave_sync_estimates = fields.Boolean(string="Import estimates as quotations", default=True)
    wave_estimate_accept_policy = fields.Selection(
        [
            ("confirm", "Confirm the order"),
            ("mark", "Mark the quotation as accepted, do not confirm it"),
        ],
        string="When Wave says an estimate is accepted",
        default="confirm",
    )
    wave_currency_policy = fields.Selection(
        CURRENCY_POLICIES, string="Currencies used in Wave", default="activate"
    )
    wave_export_on_post = fields.Boolean(string="Export invoices when posted", default=True)
    wave_invoice_send_mode = fields.Selection(
        [("mark_sent", "Mark as sent"), ("send", "Email from Wave")],
        string="Exported invoices are",
        default="mark_sent",
    )
    wave_estimate_export = fields.Selection(
        ESTIMATE_EXPORT_POLICIES, string="Send quotations to Wave as estimates", default="never"
    )
    wave_allow_sales_tax_create = fields.Boolean(string="Create missing sales taxes in Wave")
    wave_customer_creation_policy = fields.Selection(
        PARTNER_CREATION_POLICIES, string="Unknown Wave customers", default="create"
    )
    wave_vendor_creation_policy = fields.Selection(
        PARTNER_CREATION_POLICIES, string="Unknown Wave vendors", default="review"
    )
    wave_fuzzy_match_threshold = fields.Integer(string="Name match threshold (%)", default=90)
    wave_unmapped_account_policy = fields.Selection(
        [
            ("suspense", "Suspense account and review"),
            ("create", "Create the account in Odoo"),
        ],
        string="Unmapped Wave accounts",
        default="suspense",
    )
    wave_suspense_account_id = fields.Many2one(
        "account.account",
        string="Suspense account",
        domain="[('company_ids', 'in', company_id)]",
    )
    wave_conflict_policy_amounts = fields.Selection(
        CONFLICT_POLICIES, string="Amounts changed on both sides", default="review"
    )
    wave_conflict_policy_taxes = fields.Selection(
        CONFLICT_POLICIES, string="Taxes changed on both sides", default="review"
    )
    wave_conflict_policy_partner = fields.Selection(
        CONFLICT_POLICIES, string="Customer changed on both sides", default="review"
    )
    wave_conflict_policy_other = fields.Selection(
        CONFLICT_POLICIES, string="Other fields changed on both sides", default="wave"
    )
    wave_compensate_odoo_side = fields.Boolean(string="Reset Odoo document on failed export")
    wave_failure_notify_threshold = fields.Integer(
        string="Notify after consecutive failures", default=3
    )
    wave_request_log_retention_days = fields.Integer(string="Keep request log (days)", default=30)

    @api.depends("company_id")
    def _compute_wave_connection_id(self):
        for settings in self:
            settings.wave_connection_id = self.env["wave.api"]._for_company(settings.company_id)

    @api.model
    def get_values(self):
        res = super().get_values()
        if not self.env.user.has_group("wave_accounting_integration.group_wave_admin"):
            return res
        connection = self.env["wave.api"]._for_company(self.env.company)
        if connection:
            for settings_field, connection_field in CONNECTION_FIELDS.items():
                res[settings_field] = _plain(connection[connection_field])
        return res

    def set_values(self):
        super().set_values()
        if not self.env.user.has_group("wave_accounting_integration.group_wave_admin"):
            return
        connection = self.env["wave.api"]._get_or_create_for_company(self.company_id)
        vals = {}
        for settings_field, connection_field in CONNECTION_FIELDS.items():
            value = _plain(self[settings_field])
            if value != _plain(connection[connection_field]):
                vals[connection_field] = value
        for settings_field, connection_field in SECRET_FIELDS.items():
            if self[settings_field]:
                vals[connection_field] = self[settings_field].strip()
        if "auth_method" in vals and connection.state == "connected":
            # Signed in the other way: the new method has to be connected before
            # anything is synced, so the screen offers Connect to Wave again.
            vals["state"] = "disconnected"
            vals["last_error"] = _(
                "The sign-in method changed: click Connect to Wave to sign in again."
            )
        if vals:
            connection.write(vals)
            if vals.get("state") == "disconnected":
                connection.message_post(body=vals["last_error"], subtype_xmlid="mail.mt_note")

    # Connection buttons, applied to the saved settings
    def _wave_saved_connection(self):
        self.ensure_one()
        self.execute()  # save the screen first, as the Save button would
        return self.env["wave.api"]._get_or_create_for_company(self.company_id)

    def action_wave_connect(self):
        return self._wave_saved_connection().action_wave_connect()

    def action_wave_test_connection(self):
        return self._wave_saved_connection().action_wave_test_connection()

    def action_wave_disconnect(self):
        return self._wave_saved_connection().action_wave_disconnect()

    def action_wave_choose_business(self):
        return self._wave_saved_connection().action_wave_choose_business()
