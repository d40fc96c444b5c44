"""The files every phase keeps: proposals, contracts, minutes, spreadsheets, with versions."""
