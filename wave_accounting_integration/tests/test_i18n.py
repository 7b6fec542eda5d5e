# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Translations: the committed .pot is complete, and French covers the Wave screens."""

import os
import re

import polib
from lxml import etree

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

MODULE = "wave_accounting_integration"
# Labels that are the same words in French and English: names, acronyms and
# words French uses as they are.
SAME_IN_FRENCH = {
    *("Wave", "ID", "Webhook", "Webhooks", "Odoo → Wave", "Wave → Odoo"),
    *("Action", "Client", "Code", "Configuration", "Contact", "Contacts", "Journal"),
    *("Message", "Messages", "Mutation", "Mutations", "Parent", "Signature", "Source"),
    *("Suggestion", "Taxes", "Total", "Transactions", "Type", "Variables", "Version"),
}


# View attributes Odoo translates (odoo.tools.translate.TRANSLATED_ATTRS, the
# ones our views use).
VIEW_LABEL_ATTRS = ("string", "help", "placeholder", "title", "confirm", "alt", "aria-label")


def _pot_path():
    return os.path.join(get_module_path(MODULE), "i18n", f"{MODULE}.pot")


@tagged("post_install", "-at_install")
class TestPotIsComplete(TransactionCase):
    def test_committed_pot_has_every_term_odoo_exports(self):
        """Fails when a user string was added without `bash scripts/export_pot.sh`.

        Only the terms are compared, not where they come from: moving code
        between files keeps the .pot valid."""
        exported = {
            source
            for _m, _t, _n, _r, source, _v, _c in TranslationModuleReader(
                self.env.cr, modules=[MODULE]
            )
        }
        self.assertGreater(len(exported), 100)  # the addon's fields, views and messages
        committed = {entry.msgid for entry in polib.pofile(_pot_path()) if entry.msgid}
        missing = sorted(exported - committed)
        self.assertFalse(
            missing,
            f"{len(missing)} term(s) missing from i18n/{MODULE}.pot: run "
            f"`bash scripts/export_pot.sh`, then translate them in i18n/fr.po. "
            f"First ones: {missing[:10]}",
        )

    def test_french_po_translates_every_term_of_the_pot(self):
        french = polib.pofile(os.path.join(get_module_path(MODULE), "i18n", "fr.po"))
        translated = {entry.msgid for entry in french if entry.msgstr and not entry.obsolete}
        terms = {entry.msgid for entry in polib.pofile(_pot_path()) if entry.msgid}
        missing = sorted(terms - translated)
        self.assertFalse(missing, f"{len(missing)} term(s) not translated in fr.po: {missing[:10]}")


@tagged("post_install", "-at_install")
class TestFrenchScreens(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms([MODULE], ["fr_FR"], overwrite=True)
        cls.fr_env = cls.env(context=dict(cls.env.context, lang="fr_FR"))
        cls.en_env = cls.env(context=dict(cls.env.context, lang="en_US"))

    def _assert_french(self, labels):
        """labels: [(where, English, French)]: no French label equals its English one."""
        self.assertTrue(labels)
        untranslated = [
            (where, english)
            for where, english, french in labels
            if english == french and english not in SAME_IN_FRENCH
        ]
        self.assertFalse(
            untranslated, f"{len(untranslated)} label(s) not in French: {untranslated[:30]}"
        )

    def test_wave_models_fields_and_selections_in_french(self):
        labels = []
        models = sorted(name for name in self.env.registry if name.startswith("wave."))
        self.assertTrue(models)
        for model in models:
            english = self.en_env[model].fields_get(attributes=["string", "selection"])
            french = self.fr_env[model].fields_get(attributes=["string", "selection"])
            for name, description in english.items():
                field = self.env[model]._fields[name]
                if not field.base_field.model_name.startswith("wave."):
                    continue  # a mixin's field (mail.thread...): translated by its module
                where = f"{model}.{name}"
                labels.append((where, description["string"], french[name]["string"]))
                if not isinstance(getattr(field, "selection", None), list):
                    continue  # none, or computed by a method
                if field._module != MODULE:
                    continue  # values of a mixin's selection (activity_state): its module's
                for (value, label), (_value, label_fr) in zip(
                    description["selection"], french[name]["selection"], strict=True
                ):
                    labels.append((f"{where}={value}", label, label_fr))
        self._assert_french(labels)

    def _module_records(self, model):
        ids = (
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", model)])
            .mapped("res_id")
        )
        return self.en_env[model].browse(ids).exists()

    def test_menus_and_actions_in_french(self):
        labels = []
        for model in (
            "ir.ui.menu",
            "ir.actions.act_window",
            "ir.actions.server",
            "ir.actions.client",
        ):
            for record in self._module_records(model):
                french = record.with_env(self.fr_env).name
                labels.append((f"{model},{record.id}", record.name, french))
        self.assertTrue(any(where.startswith("ir.ui.menu") for where, _e, _f in labels))
        self._assert_french(labels)

    def test_view_labels_in_french(self):
        """Every label of the addon's own views (buttons, pages, groups, texts) in French."""
        labels = []
        views = self._module_records("ir.ui.view")
        self.assertTrue(views)
        for view in views:
            english = etree.fromstring(view.arch_db).iter(etree.Element)  # no comments
            french = etree.fromstring(view.with_env(self.fr_env).arch_db).iter(etree.Element)
            # A translation keeps the structure (terms hold inline markup whole).
            for node, node_fr in zip(english, french, strict=False):
                where = f"{view.xml_id or view.name} <{node.tag}>"
                for attr in VIEW_LABEL_ATTRS:
                    if node.get(attr):
                        labels.append((f"{where} {attr}", node.get(attr), node_fr.get(attr)))
                if node.tag == "attribute" and node.get("name") not in VIEW_LABEL_ATTRS:
                    continue  # an inherited view's technical value (options, invisible...)
                for part in ("text", "tail"):
                    text = (getattr(node, part) or "").strip()
                    if re.search(r"[A-Za-z]{2}", text):
                        text_fr = (getattr(node_fr, part) or "").strip()
                        labels.append((f"{where} {part}", text, text_fr))
        self._assert_french(labels)
