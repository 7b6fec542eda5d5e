# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wizard: rotate the webhook secret and/or replace the OAuth client secret."""

from odoo import api, fields, models
from odoo.exceptions import UserError


class WaveSecretRotation(models.TransientModel):
    _name = "wave.secret.rotation"
    _description = "Wave Secret Rotation"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade")
    rotate_webhook_secret = fields.Boolean(
        default=True,
        string="New webhook secret",
        help="Wave signs webhook deliveries with this secret.",
    )
    new_webhook_secret = fields.Char(
        help="Leave empty to generate a strong secret; copy it into Wave's webhook settings.",
    )
    overlap_hours = fields.Integer(
        default=24,
        help="Deliveries signed with the old secret are still accepted for this many hours, "
        "while you update the secret in Wave.",
    )
    replace_client_secret = fields.Boolean(
        string="New OAuth client secret",
        help="After regenerating the client secret in Wave's developer portal.",
    )
    new_client_secret = fields.Char()
    state = fields.Selection([("edit", "Edit"), ("done", "Done")], default="edit")
    generated_secret = fields.Char(
        readonly=True, help="Shown once: copy it into Wave's webhook settings now."
    )
    last_rotation = fields.Datetime(compute="_compute_last_rotation")

    @api.depends("connection_id")
    def _compute_last_rotation(self):
        for wizard in self:
            # sudo: the wizard is for administrators; the date is not a secret.
            wizard.last_rotation = wizard.connection_id.sudo().webhook_secret_rotated_at

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "connection_id" in fields_list and not values.get("connection_id"):
            connection = self.env["wave.api"]._for_company()
            if self.env.context.get("active_model") == "wave.api":
                connection = self.env["wave.api"].browse(self.env.context.get("active_id"))
            values["connection_id"] = connection.id
        return values

    def action_apply(self):
        self.ensure_one()
        if not (self.rotate_webhook_secret or self.replace_client_secret):
            raise UserError(self.env._("Choose at least one secret to rotate."))
        connection = self.connection_id
        connection._wave_check_admin()
        Rotator = self.env["wave.secret.rotator"]
        vals = {"state": "done", "new_webhook_secret": False, "new_client_secret": False}
        if self.replace_client_secret:
            Rotator._replace_client_secret(connection, self.new_client_secret)
        if self.rotate_webhook_secret:
            secret = Rotator._rotate_webhook_secret(
                connection, self.new_webhook_secret or None, self.overlap_hours
            )
            if not self.new_webhook_secret:
                vals["generated_secret"] = secret
        self.write(vals)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }
