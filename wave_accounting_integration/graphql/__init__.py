"""GraphQL documents and selections sent to Wave, one module per direction.

Plain Python (no Odoo import): ``inbound`` holds what the import reads.
"""
