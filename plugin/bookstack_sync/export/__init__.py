"""BookStack back into git: reading the wiki (``read``), laying it out as a docs tree (``layout``) and writing
it (``write``); ``export`` writes a whole tree, ``pull`` the pages edited since the last sync."""
