"""Carrying out a plan: the only stage that writes to BookStack (writers, ZIP import, settling)."""
