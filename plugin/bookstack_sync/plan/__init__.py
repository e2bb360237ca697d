"""Desired state against what BookStack holds, made into one frozen plan by ``make.make_plan``: git renames
(``history``), pairing (``identity``, ``planner``, ``matching``), ZIP import routes, the content checks of
``verify`` and the ``guards``. ``tags`` names what the plugin writes on what it manages; ``resolve`` says where
a page's links point."""
