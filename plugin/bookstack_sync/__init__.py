"""bookstack-sync: keep a BookStack wiki in step with a Markdown docs tree kept in git.

The package is laid out as a sync runs, each folder a stage that imports only the stages before it
(``tests/unit/test_import_graph.py`` holds that):

- ``settings``, ``model``, ``errors``: the settings read from the plugin's variables and flags, and the
  vocabulary every stage shares (actions, outcomes, a run's result, exit codes).
- ``docs/``: the structure file and the tree of page files, read once.
- ``markdown/``: what a page becomes: its links located in pulldown-cmark's events and rendered for BookStack.
- ``check/``: the validation: the generated schema, the folder rules, every link.
- ``plan/``: what BookStack should hold against what it holds, made into one frozen plan (``make.make_plan``).
- ``apply/``: the plan carried out, the only stage that writes to BookStack.
- ``report/``: the report files, the live log and the pull-request comment.

``commands/`` holds one small driver per command, each running the stages it needs; ``cli`` alone knows
argv and is the one error boundary. Beside the sync: ``export/`` brings BookStack back into git (``export``,
``pull``), ``migrate/`` brings a hand-grown docs folder into the structure (``migrate``, ``scaffold``).
``bookstack/`` is the API client every request goes through; ``git`` runs git for history, pull and migrate.
"""

__version__ = "0.1.0"
