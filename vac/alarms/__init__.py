"""Alarms: the policy (`book`: hysteresis, minimum time in state, rise against a smoothed
baseline, acknowledgements) and their shared state on the compacted `vac.alarms` topic
(`topic`), read and written by `vac alarms` and every dashboard."""
