"""bookstack-sync: keep a BookStack wiki in step with a Markdown docs tree kept in git."""

__version__ = "0.1.0"
