"""The solution design phase: the design record, its versions, the board's review and the
executives' approval."""
