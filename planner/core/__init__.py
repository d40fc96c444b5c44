"""What every area of the rollout shares."""
