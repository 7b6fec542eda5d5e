# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""How a Wave connection signs in and talks to Wave: OAuth, tokens, the client.

* "Connect to Wave" runs the OAuth2 authorization-code flow (controller
  ``controllers/oauth.py``); a full-access token may be pasted instead.
* Access and refresh tokens are stored on the connection (administrators
  only). A refresh is serialized per connection in the database: the row is
  locked in a cursor of its own, the tokens are re-read once the lock is held
  (another worker may have refreshed already) and the new pair is committed at
  once, so a rollback of the calling job can never lose a rotated refresh token.
* A refused grant disconnects the connection and notifies the administrators;
  jobs then see ``_is_ready()`` false.
* :meth:`_get_client` wires the token provider, the shared PostgreSQL budget
  (``wave.rate.bucket``) and the request log (``wave.request.log``).
"""

import contextlib
import datetime as dt
import logging

import psycopg2.errors

from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import UserError

from ..graphql.connection import BUSINESSES_QUERY
from ..lib import (
    OAuthTokenProvider,
    StaticTokenProvider,
    TokenSet,
    WaveClient,
    WaveGrantRevokedError,
    WaveRateLimitedError,
    build_authorize_url,
    exchange_code,
    refresh_token,
    scopes_for_features,
)
from ..lib.text import by_count, no_doubled_period
from .wave_rate_bucket import PgTokenBucket
from .wave_runtime import in_test_mode

_logger = logging.getLogger(__name__)

UTC = dt.timezone.utc
CALLBACK_PATH = "/wave/oauth/callback"
#: A plain number: Odoo's test harness compares the timeout with an int.
HTTP_TIMEOUT = 30.0
#: Refresh the access token this many seconds before it expires.
REFRESH_LEEWAY = 120.0
#: How long a worker waits for another one's refresh before rescheduling.
REFRESH_LOCK_TIMEOUT_MS = 15000
PRIORITY_RANK = {"bulk": 0, "webhook": 1, "interactive": 2}
OFFLINE_ACCESS_PARAM = "wave_accounting_integration.oauth_offline_access"
#: System parameter: seconds to wait for Wave's answer (default ``HTTP_TIMEOUT``).
HTTP_TIMEOUT_PARAM = "wave_accounting_integration.http_timeout"


def _naive_utc(value):
    """An aware datetime as Odoo stores it (naive UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value else False


class _ConnectionClient(WaveClient):
    """A :class:`WaveClient` whose requests have at least the connection's priority."""

    default_priority = "bulk"

    def request(
        self, query, variables=None, *, operation_name=None, priority="bulk", tolerate=None
    ):
        """Raise ``priority`` to the client's default priority when that is higher."""
        if PRIORITY_RANK.get(self.default_priority, 0) > PRIORITY_RANK.get(priority, 0):
            priority = self.default_priority
        return super().request(
            query, variables, operation_name=operation_name, priority=priority, tolerate=tolerate
        )


class _ConnectionOAuthProvider(OAuthTokenProvider):
    """OAuth provider whose refresh is serialized in the database per connection."""

    def __init__(self, connection, token_set, leeway=REFRESH_LEEWAY):
        """Keep the connection; the OAuth settings are read under the lock."""
        super().__init__(None, None, None, token_set, leeway=leeway)
        self._connection = connection

    def _refresh(self):
        """Refresh through :meth:`WaveApiConnection._wave_refresh_serialized`."""
        self.token_set = self._connection._wave_refresh_serialized(self.token_set.access_token)


class _ConnectionStaticProvider(StaticTokenProvider):
    """Full-access token: when Wave rejects it, the connection is disconnected."""

    def __init__(self, connection, access_token):
        """Keep the connection to disconnect it on rejection."""
        super().__init__(access_token)
        self._connection = connection

    def refresh_access_token(self):
        """A full-access token cannot be refreshed: disconnect and raise."""
        error = WaveGrantRevokedError(
            _(
                "Wave rejected the full-access token (revoked or deleted). Paste a new token "
                "and connect again."
            ),
            code="UNAUTHENTICATED",
        )
        self._connection._wave_mark_revoked(error)
        raise error


class WaveApiAuth(models.Model):
    _inherit = "wave.api"

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @contextlib.contextmanager
    def _wave_side_cursor(self):
        """A cursor of its own, committed on success; the test cursor in tests."""
        if in_test_mode(self.env):
            self.env.flush_all()
            yield self.env.cr
            return
        with self.env.registry.cursor() as cr:
            yield cr

    def _wave_token_set(self):
        """The stored tokens as a :class:`TokenSet` (call on a sudo record)."""
        self.ensure_one()
        expires_at = self.token_expires_at
        return TokenSet(
            access_token=self.access_token or "",
            refresh_token=self.refresh_token or None,
            expires_at=expires_at.replace(tzinfo=UTC) if expires_at else None,
            scope=self.granted_scopes or "",
        )

    def _wave_store_token_set(self, token_set):
        """Persist a new token pair (call on a sudo record)."""
        self.ensure_one()
        vals = {
            "access_token": token_set.access_token,
            "refresh_token": token_set.refresh_token or False,
            "token_expires_at": _naive_utc(token_set.expires_at),
        }
        if token_set.scope:
            vals["granted_scopes"] = token_set.scope
        self.write(vals)

    def _wave_uses_oauth(self):
        self.ensure_one()
        return self.auth_method == "oauth"

    # ------------------------------------------------------------------
    # The client
    # ------------------------------------------------------------------
    def _get_client(self, priority="bulk"):
        """A :class:`WaveClient` for this connection (see :meth:`_wave_build_client`)."""
        return self._wave_build_client(priority)

    def _wave_build_client(self, priority="bulk", **client_options):
        """A client wired to the stored tokens, the shared budget and the request log.

        ``priority`` is the least priority of its requests: "interactive" and
        "webhook" work goes before scheduled "bulk" work. ``client_options``
        are passed to :class:`WaveClient` (tests shorten the backoff).
        """
        self.ensure_one()
        # sudo: the provider needs the tokens (administrators-only fields); the
        # callers are sync jobs and administrators, and the tokens never leave
        # the client.
        connection = self.sudo()
        if connection._wave_uses_oauth():
            provider = _ConnectionOAuthProvider(connection, connection._wave_token_set())
        else:
            provider = _ConnectionStaticProvider(connection, connection.full_access_token)
        bucket = PgTokenBucket(
            self._wave_side_cursor,
            f"connection:{self.id}",
            connection.rate_limit,
            connection.rate_window,
            connection_id=self.id,
            commit=not in_test_mode(self.env),
        )
        options = {"timeout": self._wave_http_timeout()}
        options.update(client_options)
        client = _ConnectionClient(
            connection.api_url,
            provider,
            allow_insecure_loopback=connection.allow_insecure_loopback,
            rate_limiter=bucket,
            request_logger=self._wave_request_logger(bucket),
            **options,
        )
        client.default_priority = priority
        return client

    def _wave_http_timeout(self):
        """Read timeout of GraphQL requests (system parameter, 1 s to 300 s)."""
        # sudo: a technical setting read by the sync, whoever runs it.
        value = self.env["ir.config_parameter"].sudo().get_param(HTTP_TIMEOUT_PARAM)
        try:
            seconds = float(value) if value else HTTP_TIMEOUT
        except ValueError:
            _logger.warning("Ignoring %s=%r: not a number of seconds.", HTTP_TIMEOUT_PARAM, value)
            seconds = HTTP_TIMEOUT
        return min(max(seconds, 1.0), 300.0)

    def _wave_request_logger(self, bucket):
        """The client's ``request_logger``: one ``wave.request.log`` line per request."""
        connection_id = self.id
        test_env = self.env if in_test_mode(self.env) else None
        registry = self.env.registry

        def log_request(record):
            waits, waited, penalties = bucket.pop_counters()
            if test_env is not None:
                log = test_env["wave.request.log"]
                # sudo: the log is append-only and written for every user's request.
                log.sudo().create(
                    log._values_from_record(connection_id, record, waits, waited, penalties)
                )
                return
            # A cursor of its own: the line survives a rollback of the job.
            with registry.cursor() as cr:
                log = api.Environment(cr, SUPERUSER_ID, {})["wave.request.log"]
                log.create(log._values_from_record(connection_id, record, waits, waited, penalties))

        return log_request

    # ------------------------------------------------------------------
    # Token refresh, serialized per connection in the database
    # ------------------------------------------------------------------
    def _wave_refresh_serialized(self, stale_access_token, cursor_factory=None):
        """Return fresh tokens, refreshing them at most once across all workers.

        The connection row is locked (``SELECT ... FOR NO KEY UPDATE``: it
        excludes other refreshers but, unlike ``FOR UPDATE``, not the request
        log's foreign-key checks) in a cursor of its own. Once the lock is held
        the tokens are read again: when another worker already replaced
        ``stale_access_token`` its token set is returned as is. Otherwise the
        refresh token is exchanged and the new pair committed before the lock
        is released. ``cursor_factory`` (tests) gives that cursor; by default
        a new one from the registry, or the test cursor in tests.
        """
        self.ensure_one()
        if cursor_factory is None and self.env.context.get("wave_tokens_uncommitted"):
            # The OAuth callback stored the new pair in its own, uncommitted
            # transaction: another cursor would still see the old (spent) tokens.
            return self._wave_refresh_in_transaction()
        commit = cursor_factory is not None or not in_test_mode(self.env)
        factory = cursor_factory or self._wave_side_cursor
        with factory() as cr:
            if commit:
                # READ COMMITTED: once the lock is granted, read what the other
                # worker committed (REPEATABLE READ would fail to serialize).
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cr.execute("SET LOCAL lock_timeout = %s", (f"{REFRESH_LOCK_TIMEOUT_MS}ms",))
            try:
                # Raw SQL: the ORM has no row-lock API.
                cr.execute("SELECT id FROM wave_api WHERE id = %s FOR NO KEY UPDATE", (self.id,))
            except psycopg2.errors.LockNotAvailable:
                raise WaveRateLimitedError(
                    _("Another process is refreshing the Wave token; retrying shortly."),
                    code="TOKEN_REFRESH_BUSY",
                    retry_after=10.0,
                ) from None
            # Superuser: the system refreshes administrator-only tokens.
            env = api.Environment(cr, SUPERUSER_ID, {}) if commit else self.env(su=True)
            connection = env["wave.api"].browse(self.id)
            connection.invalidate_recordset()
            current = connection._wave_token_set()
            if (
                current.access_token
                and current.access_token != stale_access_token
                and not current.is_expired(leeway=REFRESH_LEEWAY / 2)
            ):
                _logger.info(
                    "Wave connection %s: token already refreshed by another worker.", self.id
                )
                return current
            if not current.refresh_token:
                error = WaveGrantRevokedError(
                    _("No Wave refresh token is stored: connect to Wave again."),
                    code="NO_REFRESH_TOKEN",
                )
                connection._wave_disconnect_revoked(error)
                if commit:
                    cr.commit()  # pylint: disable=invalid-commit
                raise error
            try:
                token_set = connection._wave_call_refresh(current.refresh_token)
            except WaveGrantRevokedError as error:
                connection._wave_disconnect_revoked(error)
                env.flush_all()
                if commit:
                    cr.commit()  # pylint: disable=invalid-commit
                raise
            connection._wave_store_token_set(token_set)
            env.flush_all()
            if commit:
                cr.commit()  # pylint: disable=invalid-commit
            _logger.info("Wave connection %s: access token refreshed.", self.id)
        if not commit:
            self.invalidate_recordset()
        return token_set

    # ------------------------------------------------------------------
    # Revoked grant: disconnect and tell the administrators
    # ------------------------------------------------------------------
    def _wave_mark_revoked(self, error):
        """Disconnect after ``error`` (committed at once outside tests)."""
        self.ensure_one()
        if in_test_mode(self.env):
            # sudo: Wave refused this connection's own grant (server side, no user
            # input): its tokens are cleared, only on this record (its company).
            self.sudo()._wave_disconnect_revoked(error)
            return
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cr.execute("SET LOCAL lock_timeout = %s", (f"{REFRESH_LOCK_TIMEOUT_MS}ms",))
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["wave.api"].browse(self.id)._wave_disconnect_revoked(error)
        except psycopg2.errors.LockNotAvailable:
            # Our own transaction holds the row: write it there instead.
            # sudo: as above, this connection only (Wave refused its own grant).
            self.sudo()._wave_disconnect_revoked(error)

    def _wave_disconnect_revoked(self, error):
        """Clear the tokens, state disconnected, chatter message and admin activities."""
        self.ensure_one()
        message = getattr(error, "message", None) or str(error)
        already = self.state == "disconnected"
        self.write(
            {
                "state": "disconnected",
                "access_token": False,
                "refresh_token": False,
                "token_expires_at": False,
                "last_error": message,
            }
        )
        if already:
            return
        _logger.warning("Wave connection %s disconnected: %s", self.id, message)
        self.message_post(
            body=_(
                "Wave refused the authorization: %(message)s Syncs are stopped until an "
                "administrator connects to Wave again.",
                message=message,
            ),
            subtype_xmlid="mail.mt_note",
        )
        self.env["wave.notifier"]._notify_admins(
            self,
            _("Reconnect Wave"),
            _(
                "Wave refused the authorization of %(name)s: %(message)s",
                name=self.display_name,
                message=message,
            ),
            activity_type_xmlid="wave_accounting_integration.mail_activity_wave_reconnect",
            send_mail=False,
        )

    # ------------------------------------------------------------------
    # Jobs
    # ------------------------------------------------------------------
    # ------------------------------------------------------------------
    # OAuth2 authorization-code flow
    # ------------------------------------------------------------------
    def _wave_call_refresh(self, refresh_token_value):
        """Exchange a refresh token at Wave's token endpoint (call on a sudo record)."""
        return refresh_token(
            self.token_url,
            self.client_id,
            self.client_secret,
            refresh_token_value,
            timeout=HTTP_TIMEOUT,
            allow_insecure_loopback=self.allow_insecure_loopback,
        )

    def _wave_refresh_in_transaction(self):
        """Refresh with the tokens of the current transaction (OAuth callback)."""
        # sudo: the tokens are administrator-only fields; called by the OAuth
        # callback and the client after _wave_check_admin (role and company) or by
        # the sync on its own connection.
        connection = self.sudo()
        current = connection._wave_token_set()
        try:
            token_set = connection._wave_call_refresh(current.refresh_token)
        except WaveGrantRevokedError as error:
            connection._wave_disconnect_revoked(error)
            raise
        connection._wave_store_token_set(token_set)
        _logger.info("Wave connection %s: access token refreshed.", self.id)
        return token_set

    def _wave_oauth_features(self):
        """The features the enabled switches need (least privilege)."""
        self.ensure_one()
        features = []
        if self.sync_inbound:
            features += ["inbound_invoices", "inbound_payments", "inbound_vendors"]
            if self.sync_estimates:
                features.append("inbound_estimates")
        if self.sync_outbound:
            features += ["outbound_invoices", "outbound_payments", "outbound_bills"]
            if self.invoice_send_mode == "send":
                features.append("send_invoices")
            if self.estimate_export != "never":
                features.append("outbound_estimates")
        # sudo: only whether a webhook secret is set (a Wave user's scopes screen);
        # this connection only, which the caller can read (record rules).
        if self.sudo().webhook_secret:
            features.append("webhooks")
        return features

    def _wave_oauth_scopes(self):
        """Scopes to request, space separated."""
        # sudo: one system parameter (no company): whether to ask for offline access.
        offline = self.env["ir.config_parameter"].sudo().get_param(OFFLINE_ACCESS_PARAM)
        return scopes_for_features(
            self._wave_oauth_features(), include_offline_access=offline in ("1", "True", "true")
        )

    def _wave_oauth_redirect_uri(self):
        self.ensure_one()
        return self.get_base_url().rstrip("/") + CALLBACK_PATH

    def _wave_oauth_authorize_url(self, state):
        """Where to send the administrator's browser (``state`` bound to the session)."""
        self.ensure_one()
        self._wave_check_admin()
        # sudo: the client id is administrator-only; checked just above: a Wave
        # administrator of this connection's company.
        connection = self.sudo()
        return build_authorize_url(
            connection.authorize_url,
            connection.client_id,
            self._wave_oauth_redirect_uri(),
            self._wave_oauth_scopes(),
            state,
            allow_insecure_loopback=connection.allow_insecure_loopback,
        )

    def _wave_oauth_complete(self, code):
        """Exchange ``code``; return the businesses to choose from (empty when chosen).

        With one business visible to the token (or the token restricted to
        one), it is selected at once.
        """
        self.ensure_one()
        self._wave_check_admin()
        # sudo: the credentials and state are administrator-only / server-owned;
        # checked just above: _wave_check_admin (a Wave administrator of this
        # connection's company).
        connection = self.sudo()
        token_set = exchange_code(
            connection.token_url,
            connection.client_id,
            connection.client_secret,
            code,
            self._wave_oauth_redirect_uri(),
            timeout=HTTP_TIMEOUT,
            allow_insecure_loopback=connection.allow_insecure_loopback,
        )
        connection._wave_store_token_set(token_set)
        connection.write({"state": "connected", "last_error": False})
        self.message_post(body=_("Connected to Wave with OAuth2."), subtype_xmlid="mail.mt_note")
        reconnect = self.env.ref(
            "wave_accounting_integration.mail_activity_wave_reconnect", raise_if_not_found=False
        )
        # sudo: the activities may be assigned to other administrators; they are
        # this connection's own, and _wave_check_admin ran above (role, company).
        self.activity_ids.filtered(
            lambda act: act.activity_type_id == reconnect
        ).sudo().action_feedback(feedback=_("Reconnected."))
        businesses = self.with_context(wave_tokens_uncommitted=True)._wave_list_businesses()
        restricted = token_set.extra.get("businessId")
        chosen = [b for b in businesses if b["id"] == restricted] if restricted else []
        if not chosen and len(businesses) == 1:
            chosen = businesses
        if chosen and not self._wave_switch_needs_confirmation(chosen[0]["id"]):
            self._wave_select_business(chosen[0])
            return []
        if chosen:
            # Another business while data is linked to the current one: the
            # administrator confirms in the business selection.
            return businesses
        if self.business_id not in {b["id"] for b in businesses} and not any(
            self._wave_linked_counts().values()
        ):
            connection.write({"business_id": False, "business_name": False})
        return businesses

    def _wave_list_businesses(self):
        """The (non-archived) businesses the token can reach, as plain dicts."""
        self.ensure_one()
        client = self._get_client("interactive")
        with client:
            nodes = list(
                client.iterate(
                    BUSINESSES_QUERY, {}, "businesses", page_size=50, priority="interactive"
                )
            )
        return [
            {
                "id": node["id"],
                "name": node.get("name") or node["id"],
                "currency": (node.get("currency") or {}).get("code") or "",
                "is_classic": bool(node.get("isClassicAccounting")),
                "is_personal": bool(node.get("isPersonal")),
            }
            for node in nodes
            if not node.get("isArchived")
        ]

    def _wave_linked_counts(self):
        """Odoo records already linked to Wave for this connection's company.

        ``{"invoices": n, "payments": n, "contacts": n}``: what moving the
        connection to another Wave business would leave pointing at the old one.
        """
        self.ensure_one()
        company = self.company_id
        # sudo: counting only, for an administrator of this company (checked by
        # the callers with _wave_check_admin); every domain is limited to the
        # connection's company or the connection itself.
        env = self.sudo().env
        return {
            "invoices": env["account.move"].search_count(
                [("company_id", "=", company.id), ("wave_id", "!=", False)]
            ),
            "payments": env["account.payment"].search_count(
                [("company_id", "=", company.id), ("wave_id", "!=", False)]
            ),
            "contacts": env["wave.partner.map"].search_count(
                [("connection_id", "=", self.id), ("partner_id", "!=", False)]
            ),
        }

    def _wave_linked_words(self, counts=None):
        """What is linked to the current business, in words: ``{"invoices": "1 invoice",
        "payments": "2 payments", "contacts": "3 contacts"}``, from ``counts`` (of
        :meth:`_wave_linked_counts`) when given."""
        counts = counts or self._wave_linked_counts()
        return {
            "invoices": by_count(counts["invoices"], _("1 invoice"), _("%(count)s invoices")),
            "payments": by_count(counts["payments"], _("1 payment"), _("%(count)s payments")),
            "contacts": by_count(counts["contacts"], _("1 contact"), _("%(count)s contacts")),
        }

    def _wave_switch_needs_confirmation(self, business_id):
        """True when choosing ``business_id`` would move linked data to another business."""
        self.ensure_one()
        if business_id == self.business_id:
            return False
        return any(self._wave_linked_counts().values())

    def _wave_select_business(self, business, confirmed=False):
        """Work on ``business`` (a dict of :meth:`_wave_list_businesses`).

        Another business while invoices, payments or contacts are linked to the
        current one is refused unless ``confirmed`` (the administrator ticked the
        confirmation of the business selection).
        """
        self.ensure_one()
        self._wave_check_admin()
        if not confirmed and self._wave_switch_needs_confirmation(business["id"]):
            raise UserError(
                no_doubled_period(
                    _(
                        "%(invoices)s, %(payments)s and %(contacts)s of this company are linked "
                        "to the Wave business %(old)s. Choosing %(new)s would sync them with "
                        "another business. Tick the confirmation in the business selection if "
                        "you really mean it.",
                        old=self.business_name or self.business_id or _("chosen before"),
                        new=business["name"],
                        **self._wave_linked_words(),
                    )
                )
            )
        reconnected = self.business_id == business["id"]
        # sudo: business and state are server-owned; checked just above:
        # _wave_check_admin (a Wave administrator of this connection's company).
        self.sudo().write(
            {
                "business_id": business["id"],
                "business_name": business["name"],
                "business_currency": business.get("currency") or False,
                "is_classic_accounting": business.get("is_classic", False),
                "state": "connected",
            }
        )
        self.message_post(
            body=_(
                "Wave business: %(name)s (%(currency)s).",
                name=business["name"],
                currency=business.get("currency") or "-",
            ),
            subtype_xmlid="mail.mt_note",
        )
        if reconnected:
            self._wave_resume_interrupted_imports()

    def _wave_resume_interrupted_imports(self):
        """Back on the same business: historical imports stopped by the disconnection go on."""
        self.ensure_one()
        runs = self.env["wave.sync.job"].search(
            [
                ("connection_id", "=", self.id),
                ("parent_id", "=", False),
                ("child_ids", "!=", False),
                ("state", "in", ("pending", "running")),
            ]
        )
        if runs:
            runs.action_resume()
            self.message_post(
                body=by_count(
                    len(runs),
                    _("One interrupted historical import resumed."),
                    _("%(count)s interrupted historical imports resumed."),
                ),
                subtype_xmlid="mail.mt_note",
            )
