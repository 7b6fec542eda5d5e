# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Wave Accounting Integration",
    "summary": "Keep Odoo accounting and a Wave (waveapps.com) business in sync",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/wave-accounting-integration/wave_accounting_integration",
    "author": "Wave Accounting Integration contributors",
    "license": "LGPL-3",
    "application": False,
    "installable": True,
    # Tested together: Odoo 18.0 (build 18.0-20250506) and OCA queue_job 18.0.3.1.2;
    # the wheel (pyproject.toml) and requirements.txt accept queue_job
    # >=18.0.3.1.1,<18.0.3.1.3.
    "depends": ["account", "sale", "purchase", "queue_job"],
    "post_init_hook": "post_init_hook",
    "external_dependencies": {"python": ["requests", "rapidfuzz", "prometheus_client"]},
    "data": [
        "security/wave_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_cron_data.xml",
        "views/wave_api_views.xml",
        "views/wave_sync_job_views.xml",
        "views/wave_account_map_views.xml",
        "views/wave_partner_map_views.xml",
        "views/wave_quarantine_views.xml",
        "views/wave_audit_log_views.xml",
        "views/res_config_settings_views.xml",
        "views/wave_webhook_views.xml",
        "data/wave_connection_data.xml",
        "views/wave_request_log_views.xml",
        "wizards/wave_business_select_views.xml",
        "views/wave_outbound_views.xml",
        "views/wave_parity_views.xml",
        "wizards/wave_parity_report_views.xml",
        "wizards/wave_export_file_import_views.xml",
        "views/wave_menus.xml",
        "wizards/wave_historical_import_views.xml",
        "views/wave_inbound_views.xml",
        "data/wave_notification_data.xml",
        "wizards/wave_golive_checklist_views.xml",
        "wizards/wave_secret_rotation_views.xml",
        "views/wave_dashboard_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "wave_accounting_integration/static/src/js/*.js",
        ],
        "web.assets_tests": [
            "wave_accounting_integration/static/src/tours/*.js",
        ],
    },
}
