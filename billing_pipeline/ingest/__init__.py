"""From a file in the inbox to chunk spans: pick-up, identity, archiving, header and record boundaries."""
