"""The technical specification phase: the terms of reference, versioned, compared, reviewed
and signed off by the executives."""
