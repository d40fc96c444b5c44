"""Domain errors. Services raise them; views turn them into flashes or HTTP responses."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the operation. ``status`` is the HTTP status it maps to."""

    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404


class PermissionDenied(DomainError):
    """The caller is a member but their role does not allow this."""

    status = 403


class ValidationError(DomainError):
    """Input broke a rule. ``errors`` maps field names to messages."""

    status = 422

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or {}


class TooLarge(DomainError):
    """The upload is bigger than the configured limit."""

    status = 413


class Conflict(DomainError):
    """The operation conflicts with the current state (a duplicate, a closed phase...);
    ``errors`` names the fields at fault where there are some (a duplicate name)."""

    status = 409

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or {}


class StaleEdit(Conflict):
    """The record changed since the user loaded it; their edit would overwrite someone's work."""

    def __init__(self, detail: str, changed_by: str | None, current_version: int) -> None:
        super().__init__(detail)
        self.changed_by = changed_by
        self.current_version = current_version
