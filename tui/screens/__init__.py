"""The dashboard's screens, one module each: the three modes (overview, SCADA, logs) and the
views they open (a DPE's chart, a log record, the help)."""
