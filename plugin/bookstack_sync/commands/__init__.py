"""Commands: one thin driver per command that ``cli`` dispatches to; each runs the pipeline stages it needs."""
