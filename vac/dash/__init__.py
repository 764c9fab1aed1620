"""What `vac dash` shows, kept apart from how it is drawn: the SCADA board and its alarms,
the live log window, and the pipeline's health. The Textual app in `tui/` only renders these."""
