# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OAuth2 authorization-code flow with Wave ("Connect to Wave" in the settings).

``/wave/oauth/start`` binds a random ``state`` to the administrator's session
and sends the browser to Wave; ``/wave/oauth/callback`` accepts the answer only
with that exact state, once (it is removed from the session on first use), for
the same user, within 15 minutes. Neither the code nor the state is logged.
"""

import hmac
import logging
import secrets
import time

from markupsafe import escape

from odoo import _, http
from odoo.exceptions import AccessError
from odoo.http import request

from ..lib import WaveError
from ..models.wave_api import ADMIN_GROUP

_logger = logging.getLogger(__name__)

SESSION_KEY = "wave_oauth"
STATE_TTL = 900


class WaveOAuthController(http.Controller):
    @http.route("/wave/oauth/start", type="http", auth="user", methods=["GET"])
    def wave_oauth_start(self, connection_id=None, **_kwargs):
        """Remember a fresh ``state`` in the session and redirect to Wave."""
        if not request.env.user.has_group(ADMIN_GROUP):
            return self._page(403, _("Only Wave administrators can connect Odoo to Wave."))
        connections = request.env["wave.api"]
        connection = (
            connections.browse(int(connection_id)).exists()
            if connection_id and str(connection_id).isdigit()
            else connections._for_company()
        )
        if not connection or not connection.has_access("write"):
            # Same answer for a connection that does not exist and one of another
            # company: nothing tells which ids exist.
            return self._page(404, _("There is no Wave connection to connect."))
        state = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = {
            "state": state,
            "connection_id": connection.id,
            "uid": request.env.uid,
            "expires": time.time() + STATE_TTL,
        }
        try:
            url = connection._wave_oauth_authorize_url(state)
        except AccessError:
            request.session.pop(SESSION_KEY, None)
            return self._page(403, _("You cannot connect this Wave connection to Wave."))
        except WaveError as error:
            return self._page(400, error.message)
        return request.redirect(url, local=False)

    @http.route("/wave/oauth/callback", type="http", auth="user", methods=["GET"])
    def wave_oauth_callback(
        self, state=None, code=None, error=None, error_description=None, **_kwargs
    ):
        """Check the state, exchange the code, choose the business."""
        pending = request.session.pop(SESSION_KEY, None)
        if not self._state_ok(pending, state):
            _logger.warning(
                "Wave OAuth callback refused for user %s: missing, forged, expired or "
                "replayed state.",
                request.env.uid,
            )
            return self._page(
                400,
                _(
                    "This answer from Wave cannot be accepted: its security token (state) does "
                    "not match the connection you started, or it was already used. Start "
                    '"Connect to Wave" again from the settings.'
                ),
            )
        if error:
            return self._page(
                400,
                _(
                    "Wave did not grant access (%(error)s). %(description)s",
                    error=error,
                    description=error_description or "",
                ),
            )
        if not code:
            return self._page(400, _("Wave's answer has no authorization code."))
        if not request.env.user.has_group(ADMIN_GROUP):
            return self._page(403, _("Only Wave administrators can connect Odoo to Wave."))
        connection = request.env["wave.api"].browse(pending["connection_id"]).exists()
        if not connection:
            return self._page(404, _("The Wave connection no longer exists."))
        try:
            businesses = connection._wave_oauth_complete(code)
        except AccessError:
            return self._page(403, _("You cannot connect this Wave connection to Wave."))
        except WaveError as failure:
            return self._page(502, failure.message)
        if businesses:
            wizard = request.env["wave.business.select"]._create_for(connection, businesses)
            return request.redirect(
                f"/odoo/action-wave_accounting_integration.wave_business_select_action/{wizard.id}"
            )
        return request.redirect(
            f"/odoo/action-wave_accounting_integration.wave_api_action/{connection.id}"
        )

    @staticmethod
    def _state_ok(pending, state):
        if not pending or not state or not isinstance(pending, dict):
            return False
        if pending.get("uid") != request.env.uid or pending.get("expires", 0) < time.time():
            return False
        return hmac.compare_digest(str(pending.get("state", "")), str(state))

    @staticmethod
    def _page(status, message):
        """A small, clear error page (the message is escaped)."""
        title = escape(_("Wave connection"))
        back = escape(_("Back to Odoo"))
        body = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:4em auto'>"
            f"<h1>{title}</h1><p id='wave-oauth-message'>{escape(message)}</p>"
            f"<p><a href='/odoo/action-wave_accounting_integration.action_wave_settings'>"
            f"{back}</a></p></body></html>"
        )
        return request.make_response(
            body, headers=[("Content-Type", "text/html; charset=utf-8")], status=status
        )
