"""The rollout itself: projects, members and departments, the phase pipeline and its gates."""
