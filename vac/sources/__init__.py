"""Where changes come from: the simulator, JSON lines (files, stdin), and later OPC UA, MQTT
and TCP. Every source yields batches of `vac.scada.change.Change` and counts bad input."""
