"""Carrying out a plan: the only stage that writes to BookStack (``sequence`` orders the writes, ``steps`` runs
them side by side, ``writers`` write one object each, ``zipimport`` a whole book or chapter, ``settle`` reconciles
with another run at the end)."""
