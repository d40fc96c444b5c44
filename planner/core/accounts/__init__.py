"""Accounts: users, passwords, API tokens, log in and out, the profile and site admin pages."""
