"""Desired state versus what BookStack holds, turned into one plan: desired, remote, history, pairing, planner."""
