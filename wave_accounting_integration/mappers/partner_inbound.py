# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave customers and vendors -> Odoo contact and contact-map values (pure functions)."""

import re
import unicodedata

from ..lib.dates import parse_wave_datetime

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


def partner_id_field(wave_type):
    """The ``res.partner`` field holding the Wave id of a ``customer`` or ``vendor``."""
    return "wave_id" if wave_type == "customer" else "wave_vendor_id"


def new_partner_vals(company, wave_type, node):
    """Values of an Odoo contact created for a Wave customer or vendor."""
    vals = {
        "name": node.get("name") or node["id"],
        "email": node.get("email") or False,
        "phone": node.get("phone") or False,
        "is_company": True,
        "company_id": company.id,
        partner_id_field(wave_type): node["id"],
        "wave_origin": "wave",
        "wave_modified_at": parse_wave_datetime(node.get("modifiedAt")),
    }
    if wave_type == "customer":
        vals["customer_rank"] = 1
    else:
        vals["supplier_rank"] = 1
    return vals


def contact_refresh_vals(node, mapping):
    """``wave.partner.map`` values following a rename or an email change at Wave."""
    vals = {}
    if node.get("name") and node["name"] != mapping.wave_name:
        vals["wave_name"] = node["name"]
    if (node.get("email") or False) != (mapping.wave_email or False):
        vals["wave_email"] = node.get("email") or False
    return vals


def partner_map_vals(connection, wave_type, wave_id, node, decision, policy):
    """``wave.partner.map`` values of a new Wave contact and its match ``decision``.

    ``decision``: ``(partner, method, score, candidates)``; without a partner the
    map waits for review, or is rejected (policy ``skip``, no candidates).
    """
    partner, method, score, candidates = decision
    if partner:
        state = "matched"
    else:
        state = "rejected" if policy == "skip" and not candidates else "review"
    return {
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
