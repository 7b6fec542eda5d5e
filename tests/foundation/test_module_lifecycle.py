"""Install, upgrade (-u) and uninstall of the addon, each in a real Odoo process."""

from harness import ScratchDatabase, harness_env, psql, run_odoo

UNINSTALL = """
module = env["ir.module.module"].search([("name", "=", "wave_accounting_integration")])
module.button_immediate_uninstall()
env.cr.commit()
"""


def _installed_state(db):
    return psql(db, "SELECT state FROM ir_module_module WHERE name = 'wave_accounting_integration'")


def test_install_upgrade_uninstall():
    conf = harness_env("WAVE_ODOO_CONF")
    with ScratchDatabase(harness_env("WAVE_BASE_DB")) as db:
        run_odoo(
            "-c",
            conf,
            "-d",
            db,
            "-i",
            "wave_accounting_integration",
            "--stop-after-init",
            "--log-level=warn",
            "--without-demo=all",
        )
        assert _installed_state(db) == "installed"
        assert (
            psql(
                db,
                "SELECT count(*) FROM ir_cron c JOIN ir_model_data d ON d.res_id = c.id "
                "AND d.model = 'ir.cron' AND d.module = 'wave_accounting_integration'",
            )
            != "0"
        )

        upgrade = run_odoo(
            "-c",
            conf,
            "-d",
            db,
            "-u",
            "wave_accounting_integration",
            "--stop-after-init",
            "--log-level=warn",
        )
        assert " ERROR " not in upgrade.stderr, upgrade.stderr[-3000:]
        assert _installed_state(db) == "installed"

        run_odoo(
            "shell", "-c", conf, "-d", db, "--no-http", "--log-level=warn", input_text=UNINSTALL
        )
        assert _installed_state(db) == "uninstalled"
        assert psql(db, "SELECT to_regclass('wave_api') IS NULL") == "t"
        assert (
            psql(
                db,
                "SELECT count(*) FROM information_schema.columns "
                "WHERE table_name = 'account_move' AND column_name LIKE 'wave%'",
            )
            == "0"
        )
