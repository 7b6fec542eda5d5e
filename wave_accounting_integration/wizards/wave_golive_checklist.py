# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Go-live checklist: is this company's Wave connection ready for production?

Each check gives ok / warning / fail, a message an accountant understands and
(when something can be done about it) a button opening the screen to fix it.
"""

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..graphql.inbound import DRY_RUN_QUERY
from ..lib import WaveError, scopes_for_features
from ..lib.text import by_count, no_doubled_period
from ..models.wave_api import ADMIN_GROUP
from ..services.books_setup import WAVE_DIGITS

_logger = logging.getLogger(__name__)

CHECK_STATES = [("ok", "OK"), ("warning", "Warning"), ("fail", "Failed")]
CRON_XMLIDS = (
    "wave_accounting_integration.ir_cron_wave_poll_inbound",
    "wave_accounting_integration.ir_cron_wave_export_outbound",
    "wave_accounting_integration.ir_cron_wave_quarantine_digest",
    "wave_accounting_integration.ir_cron_wave_retire_webhook_secrets",
)


class WaveGoliveChecklist(models.TransientModel):
    _name = "wave.golive.checklist"
    _description = "Wave Go-live Checklist"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade")
    webhook_days = fields.Integer(
        default=7, help="A verified webhook delivery must have arrived within this many days."
    )
    line_ids = fields.One2many("wave.golive.checklist.line", "checklist_id", readonly=True)
    overall_state = fields.Selection(CHECK_STATES, compute="_compute_overall_state")
    date_checked = fields.Datetime(readonly=True)

    @api.depends("line_ids.state")
    def _compute_overall_state(self):
        for checklist in self:
            states = set(checklist.line_ids.mapped("state"))
            checklist.overall_state = (
                "fail" if "fail" in states else "warning" if "warning" in states else "ok"
            )

    @api.model
    def action_open(self, connection=None):
        connection = connection or self.env["wave.api"]._for_company()
        if not connection:
            return self.env["ir.actions.act_window"]._for_xml_id(
                "wave_accounting_integration.wave_api_action"
            )
        checklist = self.create({"connection_id": connection.id})
        checklist._run_checks()
        return checklist._reopen()

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Go-live Checklist"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def action_run(self):
        self._run_checks()
        return self._reopen()

    # ------------------------------------------------------------------
    # Checks: each returns (state, message, fix) where fix is a key of
    # wave.golive.checklist.line.action_fix or False.
    # ------------------------------------------------------------------
    def _checks(self):
        return [
            ("oauth", self.env._("Connected to Wave"), self._check_oauth),
            ("scopes", self.env._("Permissions granted by Wave"), self._check_scopes),
            ("webhook", self.env._("Webhook delivery verified"), self._check_webhook),
            ("recipients", self.env._("Notification recipients"), self._check_recipients),
            ("crons", self.env._("Scheduled actions active"), self._check_crons),
            ("mappings", self.env._("Mappings complete"), self._check_mappings),
            ("precision", self.env._("Decimals kept as in Wave"), self._check_precision),
            ("currencies", self.env._("Currencies used in Wave"), self._check_currencies),
            ("dry_run", self.env._("Last month matches Wave"), self._check_dry_run),
        ]

    def _run_checks(self):
        self.ensure_one()
        vals_list = []
        for sequence, (code, name, check) in enumerate(self._checks()):
            try:
                state, message, fix = check()
            except Exception as error:  # one broken check must not hide the others
                _logger.exception("Wave go-live check %s failed", code)
                state, message, fix = "fail", str(error), False
            vals_list.append(
                {
                    "sequence": sequence,
                    "code": code,
                    "name": name,
                    "state": state,
                    "message": message,
                    "fix": fix or False,
                }
            )
        self.line_ids.unlink()
        self.write(
            {
                "line_ids": [fields.Command.create(vals) for vals in vals_list],
                "date_checked": fields.Datetime.now(),
            }
        )

    def _check_oauth(self):
        connection = self.connection_id
        _ = self.env._
        if connection.state != "connected" or not connection.business_id:
            return "fail", _("The connection is not connected to a Wave business."), "connection"
        if connection.auth_method != "oauth":
            return (
                "warning",
                _(
                    "Connected with a full-access token: Wave recommends it for development "
                    "only. Connect with OAuth (Connect to Wave) for production."
                ),
                "connection",
            )
        return (
            "ok",
            _(
                "Connected to %(business)s with OAuth.",
                business=connection.business_name or connection.business_id,
            ),
            False,
        )

    def _enabled_features(self):
        connection = self.connection_id
        features = []
        if connection.sync_inbound:
            features += ["inbound_invoices", "inbound_payments", "inbound_vendors"]
        if connection.sync_outbound:
            features += ["outbound_invoices", "outbound_payments"]
            if connection.invoice_send_mode == "send":
                features.append("send_invoices")
        # sudo: only whether a webhook secret is set, not its value.
        if connection.sudo().webhook_secret:
            features.append("webhooks")
        return features

    def _check_scopes(self):
        _ = self.env._
        connection = self.connection_id
        needed = set(scopes_for_features(self._enabled_features()))
        if connection.auth_method == "token":
            # No scope list exists for a full-access token: nothing can be missing.
            return "ok", _("A full-access token has every permission of its Wave user."), False
        granted = set((connection.granted_scopes or "").replace(",", " ").split())
        if not granted:
            return "fail", _("Wave reported no granted permission."), "connection"

        def covered(scope):
            resource = scope.split(":")[0]
            return scope in granted or f"{resource}:*" in granted

        missing = sorted(scope for scope in needed if not covered(scope))
        if missing:
            return (
                "fail",
                _(
                    "Missing permissions for the enabled features: %(scopes)s. Connect again "
                    "to grant them.",
                    scopes=", ".join(missing),
                ),
                "connection",
            )
        estimates = connection.sync_inbound and connection.sync_estimates
        if estimates and not covered("estimate:read"):
            return (
                "warning",
                _(
                    "Estimates are not imported: Wave did not grant estimate:read. "
                    "Connect again to grant it, or switch off the import of estimates."
                ),
                "connection",
            )
        granted = by_count(
            len(needed),
            _("The one permission needed is granted."),
            _("All %(count)s permissions needed are granted."),
        )
        return "ok", granted, False

    def _check_webhook(self):
        _ = self.env._
        if "wave.webhook.event" not in self.env:
            return "warning", _("Webhook reception is not installed."), False
        since = fields.Datetime.now() - timedelta(days=self.webhook_days or 7)
        count = self.env["wave.webhook.event"].search_count(
            [
                ("connection_id", "=", self.connection_id.id),
                ("state", "in", ("done", "ignored", "echo")),
                ("received_at", ">=", since),
            ]
        )
        if count:
            return (
                "ok",
                by_count(
                    count,
                    _("1 verified delivery in the last %(days)s days."),
                    _("%(count)s verified deliveries in the last %(days)s days."),
                    days=self.webhook_days,
                ),
                "webhook_log",
            )
        return (
            "warning",
            _(
                "No verified webhook delivery in the last %(days)s days. Send a test event "
                "from Wave's developer portal (Manage Applications > Webhooks), then run "
                "the checks again.",
                days=self.webhook_days,
            ),
            "webhook_log",
        )

    def _check_recipients(self):
        _ = self.env._
        admins = self.env["wave.notifier"]._admin_users(self.connection_id)
        with_email = admins.filtered("email")
        if not with_email:
            return (
                "fail",
                _(
                    "No Wave administrator with an email address: nobody would be "
                    "told when the sync fails."
                ),
                "users",
            )
        if len(with_email) < len(admins):
            return (
                "warning",
                no_doubled_period(
                    _(
                        "Administrators without email: %(names)s.",
                        names=", ".join((admins - with_email).mapped("name")),
                    )
                ),
                "users",
            )
        return (
            "ok",
            no_doubled_period(
                _("Notifications go to %(names)s.", names=", ".join(with_email.mapped("name")))
            ),
            False,
        )

    def _check_crons(self):
        _ = self.env._
        # sudo: accountants cannot read scheduled actions; only names and states are shown.
        crons = self.env["ir.cron"].sudo().with_context(active_test=False)
        inactive = []
        for xmlid in CRON_XMLIDS:
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if cron and not crons.browse(cron.id).active:
                inactive.append(crons.browse(cron.id).name)
        if inactive:
            return "fail", _("Inactive: %(names)s.", names=", ".join(inactive)), "crons"
        return "ok", _("All Wave scheduled actions are active."), False

    def _check_mappings(self):
        _ = self.env._
        domain = [("connection_id", "=", self.connection_id.id)]
        unmapped = self.env["wave.account.map"].search_count(
            [*domain, ("account_id", "=", False), ("wave_archived", "=", False)]
        )
        review = self.env["wave.partner.map"].search_count([*domain, ("state", "=", "review")])
        if unmapped:
            return (
                "fail",
                by_count(
                    unmapped,
                    _("1 Wave account has no Odoo account."),
                    _("%(count)s Wave accounts have no Odoo account."),
                ),
                "account_map",
            )
        if review:
            waiting = by_count(
                review,
                _("1 contact waits for review."),
                _("%(count)s contacts wait for review."),
            )
            return "warning", waiting, "partner_map"
        mapped = self.env["wave.account.map"].search_count(domain)
        if not mapped:
            return "warning", _("The chart of accounts has not been imported yet."), False
        archived = self.env["wave.account.map"].search_count(
            [*domain, ("wave_archived", "=", True)]
        )
        if archived:
            return (
                "ok",
                _(
                    "%(count)s Wave accounts mapped (%(archived)s archived in Wave, kept for "
                    "their old entries), no contact to review.",
                    count=mapped,
                    archived=archived,
                ),
                False,
            )
        return "ok", _("%(count)s Wave accounts mapped, no contact to review.", count=mapped), False

    def _check_precision(self):
        _ = self.env._
        Setup = self.env["wave.books.setup"]
        too_low = Setup._precisions_too_low()
        if too_low:
            return (
                "fail",
                _(
                    "Odoo keeps fewer decimals than Wave for %(names)s: a Wave price such as "
                    "0.335 or a quantity such as 0.333 would be rounded, and the invoice total "
                    "would differ from Wave's (such invoices wait in the quarantine). The fix "
                    "raises the decimal accuracy to %(digits)s decimals.",
                    names=", ".join(too_low),
                    digits=WAVE_DIGITS,
                ),
                "precision",
            )
        digits = Setup._precision_digits()
        return (
            "ok",
            _(
                "Odoo keeps Wave's decimals: %(values)s.",
                values=", ".join(f"{name} {value}" for name, value in digits.items()),
            ),
            False,
        )

    def _check_currencies(self):
        _ = self.env._
        connection = self.connection_id
        if not connection._is_ready():
            return "fail", _("Not connected: nothing to compare."), "connection"
        Setup = self.env["wave.books.setup"]
        try:
            codes = Setup._wave_currency_codes(connection)
        except WaveError as error:
            raise ValueError(_("Wave could not be asked: %(error)s", error=error)) from None
        inactive, unknown = Setup._currencies_by_state(codes)
        if unknown:
            return (
                "fail",
                _(
                    "Wave invoices use currencies Odoo does not have: %(codes)s. Create them "
                    "in Odoo, or those invoices wait in the quarantine.",
                    codes=", ".join(unknown),
                ),
                False,
            )
        if not inactive:
            return (
                "ok",
                _("Every currency Wave uses is active: %(codes)s.", codes=", ".join(codes)),
                False,
            )
        names = ", ".join(inactive.mapped("name"))
        if connection.currency_policy == "activate":
            return (
                "ok",
                _(
                    "Wave uses currencies that are not active in Odoo (%(codes)s): the import "
                    'activates them (setting "Currencies used in Wave").',
                    codes=names,
                ),
                False,
            )
        return (
            "warning",
            _(
                "Wave invoices use currencies that are not active in Odoo: %(codes)s. With "
                'the setting "Currencies used in Wave" on Ask, those invoices wait in the '
                "quarantine. The fix activates them now.",
                codes=names,
            ),
            "currencies",
        )

    def _dry_run_period(self):
        today = fields.Date.context_today(self)
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end

    def _check_dry_run(self):
        _ = self.env._
        connection = self.connection_id
        if not connection._is_ready():
            return "fail", _("Not connected: nothing to compare."), "connection"
        start, end = self._dry_run_period()
        wave_count, wave_total = self._wave_invoice_totals(start, end)
        moves = self.env["account.move"].search(
            [
                ("company_id", "=", connection.company_id.id),
                ("wave_id", "!=", False),
                ("move_type", "=", "out_invoice"),
                ("state", "!=", "cancel"),
                ("invoice_date", ">=", start),
                ("invoice_date", "<=", end),
            ]
        )
        odoo_total = Decimal(str(round(sum(moves.mapped("amount_total")), 2)))
        period = f"{start:%Y-%m}"
        # Formatted before the call: Odoo's term extractor reads _()'s arguments.
        wave_amount, odoo_amount = f"{wave_total:.2f}", f"{odoo_total:.2f}"
        message = _(
            "%(period)s: Wave %(wave_invoices)s for %(wave_total)s, Odoo %(odoo_count)s "
            "for %(odoo_total)s.",
            period=period,
            wave_invoices=by_count(wave_count, _("1 invoice"), _("%(count)s invoices")),
            wave_total=wave_amount,
            odoo_count=len(moves),
            odoo_total=odoo_amount,
        )
        if wave_count == len(moves) and wave_total == odoo_total:
            return "ok", message, False
        return (
            "warning",
            message + " " + _("Import the month again or check the quarantine."),
            ("quarantine"),
        )

    def _wave_invoice_totals(self, start, end):
        """Count and sum of Wave's invoices dated in [start, end] (drafts per policy)."""
        connection = self.connection_id
        client = connection._get_client(priority="interactive")
        count, total = 0, Decimal("0")
        try:
            nodes = client.iterate(
                DRY_RUN_QUERY,
                {"businessId": connection.business_id, "start": str(start), "end": str(end)},
                "business.invoices",
                priority="interactive",
            )
            for node in nodes:
                if node.get("status") == "DRAFT" and not connection.import_draft_invoices:
                    continue
                count += 1
                try:
                    total += Decimal(str((node.get("total") or {}).get("value") or "0"))
                except InvalidOperation:
                    continue
        except WaveError as error:
            raise ValueError(
                self.env._("Wave could not be asked: %(error)s", error=error)
            ) from None
        return count, total.quantize(Decimal("0.01"))


class WaveGoliveChecklistLine(models.TransientModel):
    _name = "wave.golive.checklist.line"
    _description = "Wave Go-live Check"
    _order = "sequence, id"

    checklist_id = fields.Many2one("wave.golive.checklist", required=True, ondelete="cascade")
    sequence = fields.Integer()
    code = fields.Char(required=True)
    name = fields.Char(string="Check", required=True)
    state = fields.Selection(CHECK_STATES, required=True)
    message = fields.Text()
    fix = fields.Selection(
        [
            ("connection", "Open the connection"),
            ("webhook_log", "Open the webhook log"),
            ("users", "Open the users"),
            ("crons", "Open the scheduled actions"),
            ("account_map", "Map the accounts"),
            ("partner_map", "Review the contacts"),
            ("quarantine", "Open the quarantine"),
            ("precision", "Raise the decimal accuracy"),
            ("currencies", "Activate the currencies"),
        ]
    )

    def action_fix(self):
        self.ensure_one()
        connection = self.checklist_id.connection_id
        Action = self.env["ir.actions.act_window"]
        if self.fix in ("precision", "currencies"):
            return self._fix_books_setup(connection)
        if self.fix == "connection":
            return {
                "type": "ir.actions.act_window",
                "res_model": "wave.api",
                "res_id": connection.id,
                "view_mode": "form",
                "views": [(False, "form")],
            }
        if self.fix == "webhook_log":
            # The menu's action: its empty screen explains what the list shows.
            action = Action._for_xml_id("wave_accounting_integration.wave_webhook_event_action")
            action["domain"] = [("connection_id", "=", connection.id)]
            return action
        if self.fix == "users":
            group = self.env.ref(ADMIN_GROUP)
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Wave administrators"),
                "res_model": "res.users",
                "view_mode": "list,form",
                "views": [(False, "list"), (False, "form")],
                "domain": [("groups_id", "in", group.ids)],
            }
        if self.fix == "crons":
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Wave scheduled actions"),
                "res_model": "ir.cron",
                "view_mode": "list,form",
                "views": [(False, "list"), (False, "form")],
                "domain": [("cron_name", "ilike", "Wave")],
                "context": {"active_test": False},
            }
        xmlids = {
            "account_map": "wave_accounting_integration.wave_account_map_action",
            "partner_map": "wave_accounting_integration.wave_partner_map_action",
            "quarantine": "wave_accounting_integration.wave_quarantine_action",
        }
        if self.fix in xmlids:
            return Action._for_xml_id(xmlids[self.fix])
        return False

    def _fix_books_setup(self, connection):
        """Raise the precisions, or activate Wave's currencies; then check again."""
        if not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(self.env._("Only Wave administrators can change these settings."))
        connection.check_access("read")  # the user's own company's connection
        Setup = self.env["wave.books.setup"]
        if self.fix == "precision":
            Setup._ensure_precisions()
        else:
            inactive, _unknown = Setup._currencies_by_state(Setup._wave_currency_codes(connection))
            Setup._activate_currencies(connection, inactive)
        checklist = self.checklist_id
        checklist._run_checks()
        return checklist._reopen()
