"""The people who use the admin UI: users and their roles, what each may see (scope), the audit trail."""
