"""Readers per file kind (text, CSV, TOML, iCalendar) and the typed-cell layer they share.

Nothing here raises for bad data: every reader records a Problem naming the file, the line (or
key, or VEVENT) and the field, and returns None or what it could read, so one run reports all.
"""
