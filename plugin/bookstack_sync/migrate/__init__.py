"""Bringing a docs folder that grew by hand into the structure: read the files, plan, write (``migrate``)."""
