"""The customer database: customers, contacts, consents, tags, interactions, feedback."""
