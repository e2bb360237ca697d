"""Commands: one small driver per command that ``cli`` dispatches to; each runs the stages it needs, and
``session`` opens the BookStack client for those that talk to it."""
