"""Bank files: the remessa sent to the bank, the retornos it sends back, and the simulated demo bank."""
