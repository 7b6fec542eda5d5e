# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The one home of "fields the server owns": users may not write them, over RPC included.

A model that inherits ``wave.server.fields.mixin`` lists in ``_wave_server_fields``
the fields only the sync writes (``"__all__"``: every field). ``create`` and ``write``
refuse them unless the environment is superuser: the sync writes its own records as
superuser (with a comment and a company check where it does), a person never does,
Wave administrators included.

The sync's documented path is :meth:`_wave_sync_create` / :meth:`_wave_sync_write`:
private methods (RPC cannot call a method whose name starts with ``_``) that check
the records' companies against the user the job runs as, then write as superuser.
A context key would not do: RPC callers choose their context.

The mixin also keeps records in their company: on create, the ``connection_id`` must
belong to one of the user's allowed companies, and no user may move a record to
another connection afterwards.
"""

from odoo import _, api, models
from odoo.exceptions import AccessError

from ..lib.text import no_doubled_period


class WaveServerFieldsMixin(models.AbstractModel):
    _name = "wave.server.fields.mixin"
    _description = "Wave Server-Owned Fields"

    #: Names of the fields only the server writes, or "__all__".
    _wave_server_fields = ()

    def _wave_server_writer(self):
        """Whether this environment may write server-owned fields (superuser only)."""
        return self.env.su

    def _wave_record_companies(self):
        """The companies of these records (by their connection when they have no company)."""
        # sudo: only the company is read, to compare it with the user's own companies.
        records = self.sudo()
        if "company_id" in self._fields:
            return records.company_id
        if "connection_id" in self._fields:
            return records.connection_id.company_id
        return self.env["res.company"]

    def _wave_check_sync_companies(self, companies):
        """The company check beside each superuser write of the sync: the user the job
        runs as (or who pressed the button) must be allowed in every company touched."""
        if self.env.su:
            return
        foreign = companies - self.env.user.company_ids
        if foreign:
            raise AccessError(
                no_doubled_period(
                    _(
                        "You cannot change the Wave records of %(company)s.",
                        company=foreign[0].display_name,
                    )
                )
            )

    def _wave_sync_write(self, vals):
        """The sync writes server-owned fields of its own company's records."""
        self._wave_check_sync_companies(self._wave_record_companies())
        # sudo: the fields are server-owned (refused to every user, administrators
        # included); checked just above: the records belong to the user's companies.
        return self.sudo().write(vals)

    @api.model
    def _wave_sync_create(self, vals_list):
        """The sync creates records for a connection of the user's allowed companies."""
        if not self.env.su and "connection_id" in self._fields:
            self._wave_check_connection_company(
                [vals["connection_id"] for vals in vals_list if vals.get("connection_id")]
            )
        # sudo: server-owned fields; checked just above: the connections' companies.
        return self.sudo().create(vals_list).sudo(self.env.su)

    def _wave_server_owned(self, vals):
        """The server-owned field names among ``vals`` (connection_id always on write)."""
        if self._wave_server_fields == "__all__":
            return sorted(name for name in vals if name in self._fields)
        return sorted(name for name in vals if name in self._wave_server_fields)

    def _wave_refuse(self, names):
        field_labels = ", ".join(self._fields[name].string for name in names)
        raise AccessError(
            _(
                "%(fields)s of %(model)s are managed by the Wave sync and cannot be changed.",
                fields=field_labels,
                model=self._description,
            )
        )

    def _wave_check_button_access(self):
        """Buttons of Wave users: the role, then the records' own companies.

        The buttons then write server-owned fields as superuser, after this check.
        """
        if self.env.su:
            return
        if not self.env.user.has_group("wave_accounting_integration.group_wave_user"):
            raise AccessError(_("Only Wave users can do this on %s.", self._description))
        # Access rights and the multi-company record rules (active companies).
        self.check_access("write")
        if self.company_id - self.env.user.company_ids:
            raise AccessError(
                _("These records of %s belong to another company.", self._description)
            )

    def _wave_check_connection_company(self, connection_ids):
        """A record may only be made for a connection of the user's allowed companies."""
        connections = self.env["wave.api"].sudo().browse(connection_ids).exists()
        # sudo: only the company of the connection is read, to compare it with the
        # user's own allowed companies.
        foreign = connections.filtered(lambda c: c.company_id not in self.env.user.company_ids)
        if foreign:
            raise AccessError(
                no_doubled_period(
                    _(
                        "You cannot use the Wave connection of %(company)s.",
                        company=foreign[0].company_id.display_name,
                    )
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if not self._wave_server_writer():
            for vals in vals_list:
                names = self._wave_server_owned(vals)
                if names:
                    self._wave_refuse(names)
            if "connection_id" in self._fields:
                self._wave_check_connection_company(
                    [vals["connection_id"] for vals in vals_list if vals.get("connection_id")]
                )
        return super().create(vals_list)

    def write(self, vals):
        if not self._wave_server_writer():
            names = self._wave_server_owned(vals)
            if "connection_id" in vals and "connection_id" in self._fields:
                if any(record.connection_id.id != vals["connection_id"] for record in self):
                    names = sorted(set(names) | {"connection_id"})
                else:
                    names = [name for name in names if name != "connection_id"]
            if names:
                self._wave_refuse(names)
        return super().write(vals)
