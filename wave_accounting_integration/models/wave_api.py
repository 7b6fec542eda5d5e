# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The connection of one Odoo company to one Wave business.

Every request to Wave goes through a ``wave.api`` record: it holds the
endpoints, the credentials (readable by Wave administrators only), the sync
switches and policies of its company.
"""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..graphql.connection import BUSINESS_QUERY
from ..lib import WaveError
from ..lib.schedule import POLL_SPREAD_PARAM, poll_offsets
from ..lib.text import no_doubled_period
from ..services.books_setup import CURRENCY_POLICIES

WAVE_GRAPHQL_URL = "https://gql.waveapps.com/graphql/public"
WAVE_AUTHORIZE_URL = "https://api.waveapps.com/oauth2/authorize/"
WAVE_TOKEN_URL = "https://api.waveapps.com/oauth2/token/"

ADMIN_GROUP = "wave_accounting_integration.group_wave_admin"
START_PATH = "/wave/oauth/start"

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


#: When quotations made in Odoo become Wave estimates (``estimate_export``).
ESTIMATE_EXPORT_POLICIES = [
    ("never", "Never"),
    ("sent", "When the quotation is sent"),
    ("confirmed", "When the order is confirmed"),
]


class WaveApi(models.Model):
    _name = "wave.api"
    _description = "Wave Connection"
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
        help="Disconnected: Wave no longer accepts Odoo's access (it was revoked in Wave or "
        "has expired). Nothing is synced until an administrator clicks Connect to Wave again.",
    )
    auth_method = fields.Selection(
        [("oauth", "OAuth2 (Connect to Wave)"), ("token", "Full-access token")],
        default="oauth",
        required=True,
        help="How Odoo signs in to Wave. Connect to Wave opens Wave's approval page (your Wave "
        "business needs the Pro or Advisor plan). A full-access token, made in Wave's developer "
        "portal, only works for a business you own.",
    )
    # Wave business this connection works on.
    business_id = fields.Char(
        string="Wave Business ID",
        index=True,
        tracking=True,
        help="Wave's reference of the business; filled in when you connect or choose it.",
    )
    business_name = fields.Char(string="Wave Business")
    business_currency = fields.Char(string="Wave Currency")
    is_classic_accounting = fields.Boolean(
        help="This Wave business uses Wave's older (classic) accounting. Wave then refuses "
        "the bank transactions Odoo would create for paid vendor bills and journal entries, so "
        "those are not exported."
    )
    granted_scopes = fields.Char(
        readonly=True,
        help="What Wave allows Odoo to read or change in this business, as approved on Wave's "
        "approval page.",
    )

    # Endpoints: Wave's real ones by default, overridable for the local sandbox.
    api_url = fields.Char(
        string="GraphQL Endpoint",
        default=WAVE_GRAPHQL_URL,
        required=True,
        help="Address Odoo sends its Wave requests to. Keep Wave's address; change it only to "
        "test against a Wave test server.",
    )
    authorize_url = fields.Char(
        string="OAuth Authorize URL",
        default=WAVE_AUTHORIZE_URL,
        required=True,
        help="Wave's approval page, where Connect to Wave sends you. Keep Wave's address.",
    )
    token_url = fields.Char(
        string="OAuth Token URL",
        default=WAVE_TOKEN_URL,
        required=True,
        help="Where Odoo obtains and renews its access to Wave. Keep Wave's address.",
    )
    allow_insecure_loopback = fields.Boolean(
        string="Allow HTTP to a local test server",
        help="Only for testing with a Wave test server on this computer: accepts an "
        "unencrypted http:// address. Real Wave addresses always use https://.",
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
        help="While the webhook secret is being changed, notifications signed with the "
        "previous secret are still accepted until this time.",
    )
    webhook_secret_rotated_at = fields.Datetime(groups=ADMIN_GROUP, copy=False)

    # Rate budget (Wave documents no limit; ~60 requests a minute per token is observed).
    rate_limit = fields.Integer(
        default=60,
        required=True,
        help="How many requests Odoo may send to Wave within the window (Wave allows about 60 "
        "a minute). A large sync is spread over more time; nothing is skipped.",
    )
    rate_window = fields.Integer(
        default=60, required=True, help="Length of that window, in seconds."
    )

    # Sync switches and policies of this company.
    sync_inbound = fields.Boolean(
        string="Import from Wave",
        default=True,
        help="Bring Wave's accounts, sales taxes, products, customers, vendors, customer "
        "invoices and their payments into Odoo, every hour (and at once when Wave sends a "
        "webhook).",
    )
    sync_outbound = fields.Boolean(
        string="Export to Wave",
        default=False,
        help="Send what is posted in Odoo to Wave: customer invoices and their payments, paid "
        "vendor bills and bank journal entries. What came from Wave is never sent back.",
    )
    sync_estimates = fields.Boolean(
        string="Import estimates as quotations",
        default=True,
        help="Bring Wave's estimates into Odoo as quotations, kept in step with their Wave "
        "status (sent, accepted, declined, turned into an invoice). Only when Wave gave the "
        "permission to read estimates (a full-access token has it).",
    )
    estimate_accept_policy = fields.Selection(
        [
            ("confirm", "Confirm the order"),
            ("mark", "Mark the quotation as accepted, do not confirm it"),
        ],
        string="When Wave says an estimate is accepted",
        default="confirm",
        required=True,
    )
    import_draft_invoices = fields.Boolean(
        help="Also import Wave invoices that are still drafts. They stay drafts in Odoo, "
        "outside your books, and are posted when they are approved in Wave."
    )

    def _estimates_enabled(self):
        """Estimates are imported: the switch is on and Wave granted ``estimate:read``
        (or ``estimate:*``; a full-access token has every permission of its user)."""
        self.ensure_one()
        if not (self.sync_inbound and self.sync_estimates):
            return False
        if self.auth_method == "token":
            return True
        # sudo: the granted permission names only (no secret), of this connection.
        granted = set((self.sudo().granted_scopes or "").replace(",", " ").split())
        return bool(granted & {"estimate:read", "estimate:*"})

    currency_policy = fields.Selection(
        CURRENCY_POLICIES,
        string="Currencies used in Wave",
        default="activate",
        required=True,
        help="Activate them automatically: a Wave invoice in a currency that is not active in "
        "Odoo activates that currency, so the invoice is booked. Ask: the invoice waits in the "
        "quarantine until you activate the currency (its button does it and imports the "
        "invoice again).",
    )
    export_on_post = fields.Boolean(
        default=True,
        help="Send a customer invoice or journal entry to Wave in the background right after it "
        "is posted. When off, the daily catch-up sends it.",
    )
    estimate_export = fields.Selection(
        ESTIMATE_EXPORT_POLICIES,
        string="Send quotations to Wave as estimates",
        default="never",
        required=True,
        help="When a quotation made in Odoo becomes a Wave estimate: when it is sent to the "
        "customer, or when it is confirmed. Wave then follows it: approved, marked sent, "
        "accepted when the order is confirmed, and changed when the quotation is changed "
        "(until Wave turns it into an invoice). Needs Export to Wave.",
    )
    invoice_send_mode = fields.Selection(
        [("mark_sent", "Mark as sent"), ("send", "Email from Wave")],
        default="mark_sent",
        required=True,
        help="Mark as sent: Wave records the invoice (or the estimate of a quotation) as sent "
        "and you send it from Odoo. Email from Wave: Wave emails it to the customer (if the Wave "
        "business cannot send emails, it is marked as sent instead).",
    )
    allow_sales_tax_create = fields.Boolean(
        help="When an exported invoice uses a tax Wave does not have, create it in Wave "
        "(percentage taxes only). When off, the invoice waits in the quarantine until the tax "
        "is linked to a Wave sales tax."
    )
    customer_creation_policy = fields.Selection(
        PARTNER_CREATION_POLICIES,
        default="create",
        required=True,
        help="A Wave customer matching no Odoo contact (by email or name): create the contact, "
        "let someone choose it in the contact review list, or leave it out. Its Wave invoices "
        "wait in the quarantine until it has a contact.",
    )
    vendor_creation_policy = fields.Selection(
        PARTNER_CREATION_POLICIES,
        default="review",
        required=True,
        help="A Wave vendor matching no Odoo contact (by email or name): create the contact, "
        "let someone choose it in the contact review list, or leave it out.",
    )
    fuzzy_match_threshold = fields.Integer(
        default=90,
        help="How alike (0-100 %) a Wave name and an Odoo contact name must be to link them "
        "when neither the email nor the exact name matches. Lower links more contacts but risks "
        "wrong ones; when two contacts score about the same, a person chooses.",
    )
    unmapped_account_policy = fields.Selection(
        [
            ("suspense", "Suspense account and review"),
            ("create", "Create the account in Odoo"),
        ],
        default="suspense",
        required=True,
        help="Invoice lines on a Wave account that is not linked to an Odoo account yet are "
        "either booked to the suspense account and listed in the quarantine for review, or a "
        "new account is added to your Odoo chart of accounts for them.",
    )
    suspense_account_id = fields.Many2one(
        "account.account",
        check_company=True,
        help="Holding account for invoice lines whose Wave account is not linked to an Odoo "
        "account yet; once it is linked, replay the record from the quarantine to move them. "
        "Empty: a Wave Suspense account is created when first needed.",
    )
    conflict_policy_amounts = fields.Selection(
        CONFLICT_POLICIES,
        default="review",
        required=True,
        help="Amounts or lines of an invoice changed both in Wave and in Odoo since the last "
        "sync. A change made in Wave only is always applied, posted invoices included (reset, "
        "amended, posted again, payments reconciled again) unless the period is locked. Wave "
        "wins: Odoo takes Wave's version. Odoo wins: Odoo's version stays. Manual review: "
        "nothing changes until someone compares both versions in the quarantine and chooses.",
    )
    conflict_policy_taxes = fields.Selection(
        CONFLICT_POLICIES,
        default="review",
        required=True,
        help="The same choice when the taxes of an invoice changed.",
    )
    conflict_policy_partner = fields.Selection(
        CONFLICT_POLICIES,
        default="review",
        required=True,
        help="The same choice when the customer of an invoice changed.",
    )
    conflict_policy_other = fields.Selection(
        CONFLICT_POLICIES,
        default="wave",
        required=True,
        help="The same choice for the other invoice details: dates, due date, references and "
        "notes.",
    )
    compensate_odoo_side = fields.Boolean(
        string="Reset the Odoo invoice to draft when sending fails",
        help="When sending an invoice to Wave still fails after every retry (Wave unreachable "
        "or in error), Odoo deletes the unfinished draft in Wave. Tick this to also reset the "
        "Odoo invoice to draft so it can be corrected and posted again; otherwise it stays "
        "posted. Either way it is listed in the quarantine.",
    )
    failure_notify_threshold = fields.Integer(
        default=3,
        help="Wave administrators get a to-do and an email when the same kind of sync has "
        "failed this many times in a row (0: never).",
    )
    request_log_retention_days = fields.Integer(
        default=30,
        help="Days the technical log of the requests sent to Wave is kept; a daily clean-up "
        "deletes older lines. Your accounting records are not affected.",
    )

    last_connection_check = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    sync_job_ids = fields.One2many("wave.sync.job", "connection_id")
    request_log_ids = fields.One2many("wave.request.log", "connection_id")
    request_log_count = fields.Integer(compute="_compute_request_log_count")

    # -- OPS: the last ledger parity report (services/parity.py) ------------
    last_parity_report_id = fields.Many2one("wave.parity.report", readonly=True, copy=False)
    last_parity_at = fields.Datetime(
        string="Last Parity Check", related="last_parity_report_id.computed_at"
    )
    last_parity_difference_count = fields.Integer(
        string="Parity Differences", related="last_parity_report_id.difference_count"
    )

    # Inbound (Wave -> Odoo): what the import keeps per connection.
    deletion_policy = fields.Selection(
        [("cancel", "Cancel or reverse in Odoo"), ("review", "Wait for review")],
        default="cancel",
        required=True,
        help="What happens to an imported invoice deleted in Wave.",
    )
    import_cursor_ids = fields.One2many("wave.import.cursor", "connection_id")
    webhook_event_ids = fields.One2many("wave.webhook.event", "connection_id")

    # --- OUTBOUND (export to Wave) ---------------------------------------
    outbound_start_date = fields.Date(
        string="Export documents from",
        default=fields.Date.context_today,
        help="The daily catch-up exports documents dated from this day on.",
    )
    outbound_generic_product_name = fields.Char(
        string="Generic Wave product",
        default="Odoo item",
        required=True,
        help="Wave invoice lines need a product: lines without one use this Wave product, "
        "created once.",
    )
    outbound_generic_product_wave_id = fields.Char(readonly=True, copy=False)
    outbound_retry_limit = fields.Integer(
        default=5,
        help="After this many failed attempts an export is compensated (its Wave steps undone).",
    )
    outbound_batch_size = fields.Integer(default=20, help="Records per export job.")
    outbound_ledger_ids = fields.One2many("wave.outbound.ledger", "connection_id")
    outbound_unknown_count = fields.Integer(
        string="Sent, answer lost", compute="_compute_outbound_unknown_count"
    )
    webhook_url = fields.Char(
        string="Webhook address",
        compute="_compute_webhook_url",
        help="The address to register in Wave for webhooks: Odoo's public address "
        "(the web.base.url system parameter) followed by this connection's route.",
    )

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

    def _compute_webhook_url(self):
        for connection in self:
            connection.webhook_url = (
                f"{connection.get_base_url()}/wave/webhook/{connection.id}"
                if connection.id
                else False
            )

    @api.depends("outbound_ledger_ids.state")
    def _compute_outbound_unknown_count(self):
        groups = self.env["wave.outbound.ledger"]._read_group(
            [("connection_id", "in", self.ids), ("state", "=", "outcome_unknown")],
            ["connection_id"],
            ["__count"],
        )
        counts = {connection.id: count for connection, count in groups}
        for connection in self:
            connection.outbound_unknown_count = counts.get(connection.id, 0)

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
        """Enqueue the hourly poll of every ready connection, staggered: connection n
        of N starts ``n * spread / N`` seconds after the cron (spread: the system
        parameter ``wave_accounting_integration.poll_spread_seconds``, default
        1800), so that many companies do not all poll Wave in the same minute."""
        ready = self.search([("sync_inbound", "=", True)], order="id").filtered(
            lambda connection: connection._is_ready()
        )
        # sudo: a technical setting read by the cron (superuser already); no company data.
        raw = self.env["ir.config_parameter"].sudo().get_param(POLL_SPREAD_PARAM)
        now = fields.Datetime.now()
        for connection, offset in zip(ready, poll_offsets(len(ready), raw), strict=True):
            connection._enqueue_poll(
                trigger="cron", eta=now + datetime.timedelta(seconds=offset) if offset else None
            )

    @api.model
    def _cron_export_outbound(self):
        for connection in self.search([("sync_outbound", "=", True)]):
            if connection._is_ready():
                self.env["wave.outbound.runner"]._enqueue_catchup(connection)

    def _compute_request_log_count(self):
        counts = dict(
            self.env["wave.request.log"]._read_group(
                [("connection_id", "in", self.ids)], ["connection_id"], ["__count"]
            )
        )
        for connection in self:
            connection.request_log_count = counts.get(connection, 0)

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    def _wave_check_admin(self):
        """Wave administrators only, and only on connections of their own companies.

        Every button, wizard and route that manages a connection calls this
        before it reads the credentials as superuser: the group alone would let
        an administrator of one company act on another company's connection.
        """
        if self.env.su:
            return
        if not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(_("Only Wave administrators can manage the Wave connection."))
        # Access rights and the multi-company record rule (active companies).
        self.check_access("write")
        foreign = self.filtered(lambda c: c.company_id not in self.env.user.company_ids)
        if foreign:
            raise AccessError(
                no_doubled_period(
                    _(
                        "You cannot manage the Wave connection of %(company)s.",
                        company=foreign[0].company_id.display_name,
                    )
                )
            )

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_wave_connect(self):
        """Connect to Wave: OAuth2 in the browser, or check the pasted token."""
        self.ensure_one()
        self._wave_check_admin()
        # sudo: the credentials and state are administrator-only / server-owned;
        # checked just above: _wave_check_admin (a Wave administrator of this
        # connection's company).
        connection = self.sudo()
        if not connection._wave_uses_oauth():
            if not connection.full_access_token:
                raise UserError(_("Paste a Wave full-access token first."))
            connection.write({"state": "connected", "granted_scopes": False})
            return self.action_wave_test_connection()
        if not connection.client_id or not connection.client_secret:
            raise UserError(_("Enter the OAuth client ID and secret of your Wave application."))
        return {
            "type": "ir.actions.act_url",
            "url": f"{START_PATH}?connection_id={self.id}",
            "target": "self",
        }

    def _wave_missing_sign_in(self):
        """A notification saying how to sign in when nothing to test with is stored."""
        self.ensure_one()
        if self._wave_uses_oauth():
            if self.access_token or self.refresh_token:
                return False
            if self.client_id and self.client_secret:
                action = self._wave_notification(
                    _("Not signed in to Wave yet"),
                    _("Odoo has no Wave sign-in to test. %s: Wave asks you to approve Odoo."),
                    "warning",
                )
                action["params"]["links"] = [
                    {"label": _("Connect to Wave"), "url": f"{START_PATH}?connection_id={self.id}"}
                ]
                return action
            return self._wave_notification(
                _("Not signed in to Wave yet"),
                _(
                    "Enter the client ID and secret of your Wave application, save, then "
                    "click Connect to Wave."
                ),
                "warning",
            )
        if self.full_access_token:
            return False
        return self._wave_notification(
            _("Not signed in to Wave yet"),
            _("Paste a Wave full-access token, save, then click Connect to Wave."),
            "warning",
        )

    def action_wave_test_connection(self):
        """Ask Wave for the business: show and store its name, currency and scopes."""
        self.ensure_one()
        self._wave_check_admin()
        # sudo: the credentials and state are administrator-only / server-owned;
        # checked just above: _wave_check_admin (a Wave administrator of this
        # connection's company).
        connection = self.sudo()
        missing = connection._wave_missing_sign_in()
        if missing:
            return missing
        try:
            if not connection.business_id:
                businesses = self._wave_list_businesses()
                if len(businesses) != 1 or self._wave_switch_needs_confirmation(
                    businesses[0]["id"]
                ):
                    return self.action_wave_choose_business(businesses)
                self._wave_select_business(businesses[0])
            with self._get_client("interactive") as client:
                data = client.execute(
                    BUSINESS_QUERY, {"businessId": connection.business_id}, priority="interactive"
                )
        except WaveError as error:
            connection.write(
                {"last_error": error.message, "last_connection_check": fields.Datetime.now()}
            )
            return self._wave_notification(_("Wave connection failed"), error.message, "danger")
        business = data.get("business") or {}
        currency = (business.get("currency") or {}).get("code") or ""
        vals = {
            "business_name": business.get("name"),
            "business_currency": currency,
            "is_classic_accounting": bool(business.get("isClassicAccounting")),
            "last_connection_check": fields.Datetime.now(),
            "last_error": False,
        }
        if connection._wave_uses_oauth():
            scopes = connection.granted_scopes or ""
        else:
            # A full-access token has no scope list: shown in plain words, never stored
            # where scope names go.
            scopes = _("all (full-access token)")
            vals["granted_scopes"] = False
        if connection.state != "connected":
            vals["state"] = "connected"
        connection.write(vals)
        return self._wave_notification(
            _("Connected to Wave"),
            _(
                "Business: %(name)s · Currency: %(currency)s · Permissions: %(scopes)s",
                name=business.get("name"),
                currency=currency,
                scopes=scopes or "-",
            ),
            "success",
        )

    def action_wave_disconnect(self):
        """Forget the tokens here (revoke the app in Wave to revoke it there too)."""
        self._wave_check_admin()
        # sudo: the credentials and state are administrator-only / server-owned;
        # checked just above: _wave_check_admin (a Wave administrator of this
        # connection's company).
        for connection in self.sudo():
            connection.write(
                {
                    "state": "disconnected",
                    "access_token": False,
                    "refresh_token": False,
                    "token_expires_at": False,
                    "full_access_token": False,
                    "granted_scopes": False,
                }
            )
            connection.message_post(
                body=_(
                    "Disconnected from Wave by %(user)s: the tokens were deleted.",
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_wave_choose_business(self, businesses=None):
        """Open the business selection (several businesses visible to the token)."""
        self.ensure_one()
        self._wave_check_admin()
        if businesses is None:
            try:
                businesses = self._wave_list_businesses()
            except WaveError as error:
                # Wave unreachable or the token refused: a plain message, not a crash.
                raise UserError(error.message) from None
        wizard = self.env["wave.business.select"]._create_for(self, businesses)
        return {
            "type": "ir.actions.act_window",
            "name": _("Choose the Wave business"),
            "res_model": "wave.business.select",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_view_request_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wave_accounting_integration.wave_request_log_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        return action

    @api.model
    def _wave_notification(self, title, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind != "success",
            },
        }
