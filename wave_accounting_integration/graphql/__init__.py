"""GraphQL documents and selections sent to Wave, one module per direction (plain Python)."""
