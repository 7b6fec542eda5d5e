# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The connection of one Odoo company to one Wave business.

Every request to Wave goes through a ``wave.api`` record: it holds the
endpoints, the credentials (readable by Wave administrators only), the sync
switches and policies of its company.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

WAVE_GRAPHQL_URL = "https://gql.waveapps.com/graphql/public"
WAVE_AUTHORIZE_URL = "https://api.waveapps.com/oauth2/authorize/"
WAVE_TOKEN_URL = "https://api.waveapps.com/oauth2/token/"

ADMIN_GROUP = "wave_accounting_integration.group_wave_admin"

PARTNER_CREATION_POLICIES = [
    ("create", "Create a new contact"),
    ("review", "Wait for review"),
    ("skip", "Do not import"),
]
CONFLICT_POLICIES = [
    ("wave", "Wave wins"),
    ("odoo", "Odoo wins"),
    ("review", "Manual review"),
]


class WaveApi(models.Model):
    _name = "wave.api"
    _description = "Wave Connection"
    _inherit = ["mail.thread"]
    _order = "company_id, id"

    name = fields.Char(required=True, default=lambda self: _("Wave"), tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [
            ("draft", "Not connected"),
            ("connected", "Connected"),
            ("disconnected", "Disconnected"),
        ],
        default="draft",
        required=True,
        tracking=True,
        help="Disconnected means Wave refused our credentials (revoked or expired grant): "
        "syncs stop until an administrator connects again.",
    )
    auth_method = fields.Selection(
        [("oauth", "OAuth2 (Connect to Wave)"), ("token", "Full-access token")],
        default="oauth",
        required=True,
    )
    # Wave business this connection works on.
    business_id = fields.Char(string="Wave Business ID", index=True, tracking=True)
    business_name = fields.Char(string="Wave Business")
    business_currency = fields.Char(string="Wave Currency")
    is_classic_accounting = fields.Boolean(
        help="Wave's classic accounting businesses cannot receive money transactions."
    )
    granted_scopes = fields.Char(readonly=True)

    # Endpoints: Wave's real ones by default, overridable for the local sandbox.
    api_url = fields.Char(string="GraphQL Endpoint", default=WAVE_GRAPHQL_URL, required=True)
    authorize_url = fields.Char(
        string="OAuth Authorize URL", default=WAVE_AUTHORIZE_URL, required=True
    )
    token_url = fields.Char(string="OAuth Token URL", default=WAVE_TOKEN_URL, required=True)
    allow_insecure_loopback = fields.Boolean(
        string="Allow HTTP to a local test server",
        help="Only for the local Wave sandbox: plain HTTP is accepted when the host is "
        "a loopback address. Real Wave endpoints always require HTTPS.",
    )

    # Credentials: administrators only (field-level groups make the ORM raise
    # AccessError for anybody else, through the UI and RPC alike).
    client_id = fields.Char(groups=ADMIN_GROUP)
    client_secret = fields.Char(groups=ADMIN_GROUP, copy=False)
    full_access_token = fields.Char(groups=ADMIN_GROUP, copy=False)
    access_token = fields.Char(groups=ADMIN_GROUP, copy=False)
    refresh_token = fields.Char(groups=ADMIN_GROUP, copy=False)
    token_expires_at = fields.Datetime(groups=ADMIN_GROUP, copy=False)
    webhook_secret = fields.Char(groups=ADMIN_GROUP, copy=False)
    webhook_secret_previous = fields.Char(groups=ADMIN_GROUP, copy=False)
    webhook_secret_previous_until = fields.Datetime(
        groups=ADMIN_GROUP,
        copy=False,
        help="During a rotation the previous webhook secret is accepted until this moment.",
    )
    webhook_secret_rotated_at = fields.Datetime(groups=ADMIN_GROUP, copy=False)

    # Rate budget (Wave documents no limit; ~60 requests a minute per token is observed).
    rate_limit = fields.Integer(default=60, required=True, help="Requests allowed per window.")
    rate_window = fields.Integer(default=60, required=True, help="Window length in seconds.")

    # Sync switches and policies of this company.
    sync_inbound = fields.Boolean(string="Import from Wave", default=True)
    sync_outbound = fields.Boolean(string="Export to Wave", default=False)
    import_draft_invoices = fields.Boolean(
        help="Also import Wave invoices that are still drafts (as Odoo drafts)."
    )
    export_on_post = fields.Boolean(
        default=True, help="Send customer invoices to Wave as soon as they are posted."
    )
    invoice_send_mode = fields.Selection(
        [("mark_sent", "Mark as sent"), ("send", "Email from Wave")],
        default="mark_sent",
        required=True,
    )
    allow_sales_tax_create = fields.Boolean(
        help="Create missing sales taxes in Wave when exporting invoices."
    )
    customer_creation_policy = fields.Selection(
        PARTNER_CREATION_POLICIES, default="create", required=True
    )
    vendor_creation_policy = fields.Selection(
        PARTNER_CREATION_POLICIES, default="review", required=True
    )
    fuzzy_match_threshold = fields.Integer(
        default=90,
        help="Minimum similarity (0-100) for a name to match an existing contact.",
    )
    unmapped_account_policy = fields.Selection(
        [
            ("suspense", "Suspense account and review"),
            ("create", "Create the account in Odoo"),
        ],
        default="suspense",
        required=True,
    )
    suspense_account_id = fields.Many2one(
        "account.account",
        check_company=True,
        help="Lines on Wave accounts that are not mapped yet are booked here until reviewed.",
    )
    conflict_policy_amounts = fields.Selection(CONFLICT_POLICIES, default="review", required=True)
    conflict_policy_taxes = fields.Selection(CONFLICT_POLICIES, default="review", required=True)
    conflict_policy_partner = fields.Selection(CONFLICT_POLICIES, default="review", required=True)
    conflict_policy_other = fields.Selection(CONFLICT_POLICIES, default="wave", required=True)
    compensate_odoo_side = fields.Boolean(
        help="When an export keeps failing, also reset the Odoo document to draft."
    )
    failure_notify_threshold = fields.Integer(
        default=3, help="Notify administrators after this many consecutive failures."
    )
    request_log_retention_days = fields.Integer(default=30)

    last_connection_check = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    sync_job_ids = fields.One2many("wave.sync.job", "connection_id")

    _sql_constraints = [
        (
            "rate_limit_positive",
            "CHECK(rate_limit > 0 AND rate_window > 0)",
            "The rate limit and its window must be positive.",
        ),
        (
            "fuzzy_threshold_range",
            "CHECK(fuzzy_match_threshold BETWEEN 0 AND 100)",
            "The fuzzy match threshold is a percentage between 0 and 100.",
        ),
    ]

    @api.constrains("company_id", "active")
    def _check_one_active_per_company(self):
        for connection in self.filtered("active"):
            others = self.search_count(
                [
                    ("company_id", "=", connection.company_id.id),
                    ("active", "=", True),
                    ("id", "!=", connection.id),
                ]
            )
            if others:
                raise ValidationError(
                    _(
                        "The company %s already has an active Wave connection.",
                        connection.company_id.display_name,
                    )
                )

    @api.constrains("api_url", "authorize_url", "token_url", "allow_insecure_loopback")
    def _check_endpoints(self):
        from ..lib.urls import check_endpoint

        for connection in self:
            for url in (connection.api_url, connection.authorize_url, connection.token_url):
                error = check_endpoint(url, connection.allow_insecure_loopback)
                if error:
                    raise ValidationError(error)

    @api.model
    def _for_company(self, company=None):
        """The active connection of ``company`` (default: the current one)."""
        company = company or self.env.company
        return self.search([("company_id", "=", company.id)], limit=1)

    @api.model
    def _get_or_create_for_company(self, company=None):
        company = company or self.env.company
        connection = self._for_company(company)
        if not connection:
            connection = self.create({"company_id": company.id})
        return connection

    def _is_ready(self):
        self.ensure_one()
        return self.active and self.state == "connected" and bool(self.business_id)

    # ------------------------------------------------------------------
    # Schedulers: they only enqueue; the work runs in queue jobs.
    # ------------------------------------------------------------------
    @api.model
    def _cron_poll_inbound(self):
        for connection in self.search([("sync_inbound", "=", True)]):
            if connection._is_ready():
                connection._enqueue_poll(trigger="cron")

    @api.model
    def _cron_export_outbound(self):
        for connection in self.search([("sync_outbound", "=", True)]):
            if connection._is_ready():
                connection._enqueue_outbound_catchup()
