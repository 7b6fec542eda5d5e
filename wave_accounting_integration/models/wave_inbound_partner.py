# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Matching of Wave customers and vendors with Odoo contacts.

Order: existing map, Wave id on the contact, email, normalized name, then a
fuzzy name match (rapidfuzz ``token_sort_ratio`` over normalized names) above
the connection's ``fuzzy_match_threshold``. Two candidates within
``AMBIGUITY_MARGIN`` points of each other make the match ambiguous: the map
waits for review with its candidates. Without any match the creation policy
of the connection (per customer / vendor) decides.
"""

import re
import unicodedata

from odoo import api, models

from ..lib.dates import parse_wave_datetime as wave_datetime

AMBIGUITY_MARGIN = 3.0
LEGAL_SUFFIXES = {
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "gmbh",
    "sa",
    "sarl",
    "lp",
    "llp",
}


def normalize_name(name):
    """Lowercase ASCII words without punctuation nor legal suffixes ("Acme Corp." -> "acme")."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    text = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", text.lower())  # l.l.c. -> llc
    words = re.findall(r"[a-z0-9]+", text)
    stripped = [w for w in words if w not in LEGAL_SUFFIXES]
    return " ".join(stripped or words)


class WavePartnerMap(models.Model):
    _inherit = "wave.partner.map"

    @api.model
    def _match_contacts(self, connection, wave_type, nodes):
        """Map Wave contact ``nodes`` of ``wave_type``; returns ``{wave_id: map}``.

        Existing maps are kept (a reviewed map is never overridden); new ones
        are matched in one pass with one query per matching step.
        """
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        if not nodes:
            return {}
        existing = self.search(
            [
                ("connection_id", "=", connection.id),
                ("wave_type", "=", wave_type),
                ("wave_id", "in", list(nodes)),
            ]
        )
        result = {m.wave_id: m for m in existing}
        for mapping in existing:
            mapping._refresh_from_wave(nodes[mapping.wave_id])
        new_nodes = {k: v for k, v in nodes.items() if k not in result}
        if new_nodes:
            result.update(self._match_new_contacts(connection, wave_type, new_nodes))
        return result

    def _refresh_from_wave(self, node):
        """Follow renames and email changes of an already mapped Wave contact."""
        self.ensure_one()
        vals = {}
        if node.get("name") and node["name"] != self.wave_name:
            vals["wave_name"] = node["name"]
        if (node.get("email") or False) != (self.wave_email or False):
            vals["wave_email"] = node.get("email") or False
        if vals:
            self.write(vals)
            partner = self.partner_id
            if partner and partner.wave_origin == "wave":
                partner.write({"name": self.wave_name, "email": self.wave_email})

    @api.model
    def _match_new_contacts(self, connection, wave_type, nodes):
        company = connection.company_id
        Partner = self.env["res.partner"].with_context(active_test=False)
        id_field = "wave_id" if wave_type == "customer" else "wave_vendor_id"
        company_domain = [("company_id", "in", [False, company.id])]
        decisions = {}  # wave_id -> (partner, method, score, candidates)
        # 1. Wave id already on a contact
        for partner in Partner.search([(id_field, "in", list(nodes)), *company_domain]):
            decisions[partner[id_field]] = (partner, "wave_id", 100.0, Partner)
        # 2. email
        todo = {k: v for k, v in nodes.items() if k not in decisions}
        emails = {k: (v.get("email") or "").strip().lower() for k, v in todo.items()}
        emails = {k: v for k, v in emails.items() if v}
        if emails:
            by_email = {}
            for partner in Partner.search(
                [
                    ("email_normalized", "in", list(set(emails.values()))),
                    (id_field, "=", False),
                    *company_domain,
                ],
                order="parent_id desc, id",
            ):
                by_email.setdefault(partner.email_normalized, partner)
            for wave_id, email in emails.items():
                if email in by_email:
                    decisions[wave_id] = (by_email[email], "email", 100.0, Partner)
        # 3. normalized name, then 4. fuzzy name
        todo = {k: v for k, v in nodes.items() if k not in decisions}
        if todo:
            decisions.update(
                self._match_by_name(connection, todo, Partner, id_field, company_domain)
            )
        # 5. creation policy
        policy = (
            connection.customer_creation_policy
            if wave_type == "customer"
            else connection.vendor_creation_policy
        )
        to_create = [k for k in nodes if k not in decisions and policy == "create"]
        if to_create:
            created = Partner.create(
                [self._partner_vals(connection, wave_type, nodes[k]) for k in to_create]
            )
            for wave_id, partner in zip(to_create, created, strict=True):
                decisions[wave_id] = (partner, "created", 0.0, Partner)
            self.env["wave.audit.log"]._log_many(
                created, "create", lambda p: {"name": p.name, "email": p.email or False}
            )
        # bind the Wave id on matched contacts that have none yet
        for wave_id, (partner, method, _score, _cand) in decisions.items():
            if partner and not partner[id_field] and method != "created":
                partner.write({id_field: wave_id})
        vals_list = []
        for wave_id, node in nodes.items():
            partner, method, score, candidates = decisions.get(
                wave_id, (Partner, False, 0.0, Partner)
            )
            if partner:
                state = "matched"
            else:
                state = "rejected" if policy == "skip" and not candidates else "review"
            vals_list.append(
                {
                    "connection_id": connection.id,
                    "wave_type": wave_type,
                    "wave_id": wave_id,
                    "wave_name": node.get("name") or wave_id,
                    "wave_email": node.get("email") or False,
                    "partner_id": partner.id,
                    "candidate_partner_ids": [(6, 0, candidates.ids)],
                    "match_method": method or False,
                    "match_score": score,
                    "state": state,
                }
            )
        maps = self.create(vals_list)
        return {m.wave_id: m for m in maps}

    @api.model
    def _match_by_name(self, connection, todo, Partner, id_field, company_domain):
        """Exact normalized name first, then fuzzy; contacts bound to another Wave
        contact of the same type are never candidates (they are that contact)."""
        from rapidfuzz import fuzz, process

        threshold = connection.fuzzy_match_threshold
        pool = Partner.search_fetch(
            [
                (id_field, "=", False),
                ("active", "=", True),
                *company_domain,
                "|",
                ("is_company", "=", True),
                ("parent_id", "=", False),
            ],
            ["name"],
        )
        names = {p.id: normalize_name(p.name) for p in pool if p.name}
        by_norm = {}
        for pid, norm in names.items():
            by_norm.setdefault(norm, []).append(pid)
        decisions = {}
        for wave_id, node in todo.items():
            norm = normalize_name(node.get("name"))
            if not norm:
                continue
            exact = by_norm.get(norm, [])
            if len(exact) == 1:
                decisions[wave_id] = (Partner.browse(exact[0]), "name", 100.0, Partner)
                continue
            if len(exact) > 1:
                decisions[wave_id] = (Partner, "name", 100.0, Partner.browse(exact))
                continue
            hits = process.extract(
                norm, names, scorer=fuzz.token_sort_ratio, limit=3, score_cutoff=threshold
            )
            if not hits:
                continue
            best_score = hits[0][1]
            close = [h for h in hits if best_score - h[1] <= AMBIGUITY_MARGIN]
            if len(close) > 1:
                decisions[wave_id] = (
                    Partner,
                    "fuzzy",
                    best_score,
                    Partner.browse([h[2] for h in close]),
                )
            else:
                decisions[wave_id] = (Partner.browse(hits[0][2]), "fuzzy", best_score, Partner)
        return decisions

    @api.model
    def _partner_vals(self, connection, wave_type, node):
        id_field = "wave_id" if wave_type == "customer" else "wave_vendor_id"
        vals = {
            "name": node.get("name") or node["id"],
            "email": node.get("email") or False,
            "phone": node.get("phone") or False,
            "is_company": True,
            "company_id": connection.company_id.id,
            id_field: node["id"],
            "wave_origin": "wave",
            "wave_modified_at": wave_datetime(node.get("modifiedAt")),
        }
        if wave_type == "customer":
            vals["customer_rank"] = 1
        else:
            vals["supplier_rank"] = 1
        return vals
