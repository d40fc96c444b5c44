"""The requirements phase: department intake and the requirements register."""
