"""Telling Wave administrators when the integration needs them: the one home.

One recipient rule (:meth:`WaveNotifier._admin_users`): active internal users of
the *Wave / Administrator* group who may work in the connection's company. One
deduplication rule: an administrator with an open activity of the same summary
on the same record gets neither a new activity nor a new mail. One failure rule
(:meth:`WaveNotifier._check_failure_streak`): a sync kind whose last
``failure_notify_threshold`` runs all failed is notified (``wave.sync.job``'s
``write`` calls it when a run fails).
"""

import logging

from markupsafe import Markup, escape

from odoo import api, fields, models

from ..lib.text import by_count

_logger = logging.getLogger(__name__)

ADMIN_GROUP = "wave_accounting_integration.group_wave_admin"
ATTENTION_ACTIVITY = "wave_accounting_integration.mail_activity_type_wave_attention"


class WaveNotifier(models.AbstractModel):
    _name = "wave.notifier"
    _description = "Wave Administrator Notifications"

    @api.model
    def _admin_users(self, connection):
        """Active internal Wave administrators of ``connection``'s company."""
        connection.ensure_one()
        # sudo: the notification is sent by the sync (cron/job user), which may
        # not read the group's members; the company check below keeps it to the
        # connection's own company.
        users = self.env.ref(ADMIN_GROUP).sudo().users
        root = self.env.ref("base.user_root")
        return users.filtered(
            lambda u: (
                u.active and not u.share and u != root and connection.company_id in u.company_ids
            )
        )

    @api.model
    def _notify_admins(
        self,
        connection,
        summary,
        note="",
        record=None,
        activity_type_xmlid=ATTENTION_ACTIVITY,
        date_deadline=None,
        send_mail=True,
    ):
        """An activity on ``record`` (default: the connection) for every administrator.

        ``send_mail``: also post one message on the connection addressed to them.
        Returns the activities created.
        """
        Activity = self.env["mail.activity"]
        admins = self._admin_users(connection)
        if not admins:
            _logger.warning("Wave connection %s: no administrator to notify", connection.id)
            return Activity
        target = record if record is not None and "activity_ids" in record else connection
        target.ensure_one()
        # sudo: the sync may not read other users' activities (same record, same company).
        open_activities = Activity.sudo().search(
            [
                ("res_model", "=", target._name),
                ("res_id", "=", target.id),
                ("summary", "=", summary),
                ("user_id", "in", admins.ids),
            ]
        )
        to_notify = admins - open_activities.user_id
        if not to_notify:
            return Activity
        activity_type = self.env.ref(activity_type_xmlid, raise_if_not_found=False)
        vals_list = [
            {
                "res_model_id": self.env["ir.model"]._get_id(target._name),
                "res_id": target.id,
                "activity_type_id": activity_type.id if activity_type else False,
                "summary": summary,
                "note": escape(note) if note else False,
                "user_id": user.id,
                "date_deadline": date_deadline or fields.Date.context_today(connection),
            }
            for user in to_notify
        ]
        # sudo: activities for other users of the connection's company;
        # mail_activity_quick_update avoids a second "activity assigned" mail.
        created = Activity.sudo().with_context(mail_activity_quick_update=True).create(vals_list)
        if send_mail:
            body = Markup("<p><strong>%s</strong></p><p>%s</p>") % (summary, note or "")
            # sudo: administrators are notified whatever the current user may post.
            connection.sudo().message_post(
                body=body,
                subject=summary,
                partner_ids=to_notify.partner_id.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        return created

    @api.model
    def _check_failure_streak(self, connection, failed_job):
        """Notify administrators when the last N runs of ``failed_job``'s kind all failed.

        N is the connection's ``failure_notify_threshold`` (0: never). Returns the
        activities created.
        """
        threshold = connection.failure_notify_threshold
        if threshold <= 0:
            return self.env["mail.activity"]
        last_runs = self.env["wave.sync.job"].search(
            [
                ("connection_id", "=", connection.id),
                ("kind", "=", failed_job.kind),
                ("parent_id", "=", False),
                ("state", "not in", ("pending", "running", "cancelled")),
            ],
            order="create_date desc, id desc",
            limit=threshold,
        )
        if len(last_runs) < threshold or any(run.state != "failed" for run in last_runs):
            return self.env["mail.activity"]
        kinds = dict(failed_job._fields["kind"]._description_selection(self.env))
        return self._notify_admins(
            connection,
            self.env._("Wave sync failing: %(kind)s", kind=kinds[failed_job.kind]),
            by_count(
                threshold,
                self.env._("The last run failed. Error: %(error)s"),
                self.env._("The last %(count)s runs failed. Last error: %(error)s"),
                error=(failed_job.error_message or "").strip()[:500],
            ),
        )
