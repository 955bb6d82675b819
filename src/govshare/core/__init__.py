"""Cross-cutting foundations: settings, database, clock, errors, events, calendar, security."""
