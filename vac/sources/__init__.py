"""Where changes come from: the simulator, JSON lines (files, stdin), and later OPC UA, MQTT
and TCP. Every source yields batches of `vac.records.change.Change` and counts bad input."""
