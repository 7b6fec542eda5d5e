"""Pure mappers between Wave nodes and Odoo values (no ORM writes, no Wave requests).

``*_inbound``: a Wave node and the Odoo records it was already resolved to -> the
values Odoo creates or writes. Validation and writing live in the services.
"""
