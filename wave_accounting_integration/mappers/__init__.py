"""Mappers: pure functions between Odoo records and Wave data, one module per subject.

No ORM writes and no Wave requests here: a mapper reads the records (and the
references already resolved for it) and returns the Wave input (outbound) or the
Odoo values (inbound). Validation and writing live in the services.
"""
