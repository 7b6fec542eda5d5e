"""Every GraphQL document the addon sends to Wave, one module per direction.

Plain Python (no Odoo import). ``*_QUERY`` / ``*_MUTATION`` are whole documents,
``*_SELECTION`` the fields selected on one Wave type.
"""
