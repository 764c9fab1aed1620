"""The Textual dashboard (`vac dash`); it draws what the core in `vac/` reads."""
