"""Data migration (issue #11): read an old CRM's export, profile it, find its duplicates."""
