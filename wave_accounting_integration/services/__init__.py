"""Services: the work of the integration, apart from the records it is done for.

Each service is an ``AbstractModel`` (or a plain-Python helper) whose methods take
the connection (``wave.api`` record) as their first argument, the way Odoo keeps
``account.edi.xml.ubl_20`` apart from the invoices it serves.
"""

from . import books_setup
from . import notifier
from . import job_guard
from . import secret_rotation
from . import quarantine_digest
from . import dashboard_stats
from . import parity
from . import reference_importer
from . import partner_matcher
from . import payment_importer
from . import invoice_importer
from . import invoice_updater
from . import estimate_importer
from . import inbound_poller
from . import historical_importer
from . import webhook_processor
from . import inbound_replay
from . import outbound_ledger_service
from . import outbound_runner
from . import outbound_dependencies
from . import document_exporter
from . import invoice_exporter
from . import estimate_exporter
from . import estimate_invoicing
from . import invoice_saga
from . import payment_exporter
from . import money_exporter
from . import outbound_replay
