# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Matching of Wave customers and vendors with Odoo contacts (``wave.partner.map``).

Order: existing map, Wave id on the contact, email, normalized name, then a
fuzzy name match (rapidfuzz ``token_sort_ratio`` over normalized names) above
the connection's ``fuzzy_match_threshold``. Two candidates within
``AMBIGUITY_MARGIN`` points of each other make the match ambiguous: the map
waits for review with its candidates. Without any match the creation policy
of the connection (per customer / vendor) decides. A contact already standing
for another Wave contact, or matched by two of one batch, is never linked
silently: the second waits for review (``_guard_shared_partners``).
"""

from odoo import api, models

from ..lib.text import no_doubled_period
from ..mappers.partner_inbound import (
    contact_refresh_vals,
    new_partner_vals,
    normalize_name,
    partner_id_field,
    partner_map_vals,
)

AMBIGUITY_MARGIN = 3.0


class WavePartnerMatcher(models.AbstractModel):
    _name = "wave.partner.matcher"
    _description = "Wave Contact Matching"

    @api.model
    def _match_contacts(self, connection, wave_type, nodes):
        """Map Wave contact ``nodes`` of ``wave_type``; returns ``{wave_id: map}``.

        Existing maps are kept (a reviewed map is never overridden); new ones
        are matched in one pass with one query per matching step.
        """
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        if not nodes:
            return {}
        existing = self.env["wave.partner.map"].search(
            [
                ("connection_id", "=", connection.id),
                ("wave_type", "=", wave_type),
                ("wave_id", "in", list(nodes)),
            ]
        )
        result = {m.wave_id: m for m in existing}
        for mapping in existing:
            self._refresh_map(connection, mapping, nodes[mapping.wave_id])
        new_nodes = {k: v for k, v in nodes.items() if k not in result}
        if new_nodes:
            result.update(self._match_new_contacts(connection, wave_type, new_nodes))
        return result

    @api.model
    def _refresh_map(self, connection, mapping, node):
        """Follow renames and email changes of an already mapped Wave contact."""
        vals = contact_refresh_vals(node, mapping)
        if vals:
            mapping.write(vals)
            partner = mapping.partner_id
            if partner and partner.wave_origin == "wave":
                partner.write({"name": mapping.wave_name, "email": mapping.wave_email})

    @api.model
    def _match_new_contacts(self, connection, wave_type, nodes):
        """Match, create or leave for review the contacts of new Wave ``nodes``."""
        Partner = self.env["res.partner"].with_context(active_test=False)
        id_field = partner_id_field(wave_type)
        company_domain = [("company_id", "in", [False, connection.company_id.id])]
        # wave_id -> (partner, method, score, candidates)
        decisions = self._match_by_id_or_email(Partner, id_field, company_domain, nodes)
        todo = {k: v for k, v in nodes.items() if k not in decisions}
        if todo:
            decisions.update(
                self._match_by_name(connection, todo, Partner, id_field, company_domain)
            )
        reasons = self._guard_shared_partners(connection, wave_type, nodes, decisions, Partner)
        policy = (
            connection.customer_creation_policy
            if wave_type == "customer"
            else connection.vendor_creation_policy
        )
        if policy == "create":
            to_create = [k for k in nodes if k not in decisions]
            decisions.update(self._create_partners(connection, wave_type, nodes, to_create))
        # bind the Wave id on matched contacts that have none yet
        for wave_id, (partner, method, _score, _cand) in decisions.items():
            if partner and not partner[id_field] and method != "created":
                partner.write({id_field: wave_id})
        no_match = (Partner, False, 0.0, Partner)
        maps = self.env["wave.partner.map"].create(
            [
                dict(
                    partner_map_vals(
                        connection,
                        wave_type,
                        wave_id,
                        node,
                        decisions.get(wave_id, no_match),
                        policy,
                    ),
                    review_reason=reasons.get(wave_id, False),
                )
                for wave_id, node in nodes.items()
            ]
        )
        return {m.wave_id: m for m in maps}

    @api.model
    def _guard_shared_partners(self, connection, wave_type, nodes, decisions, Partner):
        """Two Wave contacts never silently become one Odoo contact.

        A contact matched (by email or name) that another Wave contact already uses (its
        map, or its Wave id on the contact), or that several contacts of this batch match
        ("Acme Widgets" and "ACME Widgets, Inc." normalise alike), is kept for the first
        only (best method, then score, then Wave's order); the others wait for review with
        it as their suggestion. Returns ``{wave_id: plain reason}`` of those.
        """
        _ = self.env._
        id_field = partner_id_field(wave_type)
        matched = {k: d for k, d in decisions.items() if d[0] and d[1] != "wave_id"}
        if not matched:
            return {}
        partner_ids = {d[0].id for d in matched.values()}
        taken = {}
        for mapping in self.env["wave.partner.map"].search(
            [
                ("connection_id", "=", connection.id),
                ("wave_type", "=", wave_type),
                ("partner_id", "in", list(partner_ids)),
                ("wave_id", "not in", list(nodes)),
                ("state", "!=", "rejected"),
            ]
        ):
            taken.setdefault(mapping.partner_id.id, mapping.wave_name)
        for partner in Partner.browse(list(partner_ids)):
            if partner[id_field] and partner[id_field] not in nodes:
                taken.setdefault(partner.id, partner[id_field])
        rank = {"email": 0, "vat": 1, "name": 2, "fuzzy": 3}
        order = {wave_id: index for index, wave_id in enumerate(nodes)}
        first = {}
        for wave_id in sorted(
            matched,
            key=lambda k: (rank.get(matched[k][1], 9), -matched[k][2], order[k]),
        ):
            partner = matched[wave_id][0]
            if partner.id not in taken:
                first.setdefault(partner.id, wave_id)
        reasons = {}
        for wave_id, (partner, method, score, _candidates) in matched.items():
            if partner.id in taken:
                reason = _(
                    "The Odoo contact %(partner)s already stands for another Wave contact "
                    "(%(other)s). Check whether %(name)s is the same business before "
                    "linking it.",
                    partner=partner.display_name,
                    other=taken[partner.id],
                    name=nodes[wave_id].get("name") or wave_id,
                )
            elif first[partner.id] != wave_id:
                other = first[partner.id]
                reason = no_doubled_period(
                    _(
                        "%(name)s and %(other)s, two different Wave contacts, both look like "
                        "the Odoo contact %(partner)s. Only %(other)s was linked; check %(name)s.",
                        name=nodes[wave_id].get("name") or wave_id,
                        other=nodes[other].get("name") or other,
                        partner=partner.display_name,
                    )
                )
            else:
                continue
            decisions[wave_id] = (Partner, method, score, partner)
            reasons[wave_id] = reason
        return reasons

    @api.model
    def _match_by_id_or_email(self, Partner, id_field, company_domain, nodes):
        """Decisions of the contacts found by Wave id, then by email."""
        decisions = {}
        for partner in Partner.search([(id_field, "in", list(nodes)), *company_domain]):
            decisions[partner[id_field]] = (partner, "wave_id", 100.0, Partner)
        todo = {k: v for k, v in nodes.items() if k not in decisions}
        emails = {k: (v.get("email") or "").strip().lower() for k, v in todo.items()}
        emails = {k: v for k, v in emails.items() if v}
        if not emails:
            return decisions
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
        return decisions

    @api.model
    def _match_by_name(self, connection, todo, Partner, id_field, company_domain):
        """Exact normalized name first, then fuzzy; contacts bound to another Wave
        contact of the same type are never candidates (they are that contact)."""
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
            elif exact:
                decisions[wave_id] = (Partner, "name", 100.0, Partner.browse(exact))
            else:
                decision = self._fuzzy_decision(connection, norm, names, Partner)
                if decision:
                    decisions[wave_id] = decision
        return decisions

    @api.model
    def _fuzzy_decision(self, connection, norm, names, Partner):
        """The fuzzy-match decision for a normalized name, or None below the threshold."""
        from rapidfuzz import fuzz, process

        hits = process.extract(
            norm,
            names,
            scorer=fuzz.token_sort_ratio,
            limit=3,
            score_cutoff=connection.fuzzy_match_threshold,
        )
        if not hits:
            return None
        best_score = hits[0][1]
        close = [h for h in hits if best_score - h[1] <= AMBIGUITY_MARGIN]
        if len(close) > 1:
            return (Partner, "fuzzy", best_score, Partner.browse([h[2] for h in close]))
        return (Partner.browse(hits[0][2]), "fuzzy", best_score, Partner)

    @api.model
    def _create_partners(self, connection, wave_type, nodes, wave_ids):
        """Create Odoo contacts for Wave contacts ``wave_ids``; returns their decisions."""
        if not wave_ids:
            return {}
        Partner = self.env["res.partner"].with_context(active_test=False)
        created = Partner.create(
            [new_partner_vals(connection.company_id, wave_type, nodes[k]) for k in wave_ids]
        )
        self.env["wave.audit.log"]._log_many(
            created, "create", lambda p: {"name": p.name, "email": p.email or False}
        )
        return {
            wave_id: (partner, "created", 0.0, Partner)
            for wave_id, partner in zip(wave_ids, created, strict=True)
        }
