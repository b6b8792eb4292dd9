"""A Matrix bridge: red packets in Matrix rooms, the bridge being a host app of hongbao's platform API."""
