"""What Trustledger builds from its events: the ledger's own tables, views and the audit log."""
