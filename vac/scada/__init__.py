"""SCADA value streaming: datapoint elements (DPEs), their changes, and `vac stream scada`."""
