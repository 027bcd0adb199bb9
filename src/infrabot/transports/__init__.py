"""Chat networks: each transport turns its network's events into :mod:`infrabot.messages`."""
