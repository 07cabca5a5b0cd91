"""How often the daemon may evaluate the sensors.

Fixed here rather than read from a setting, so that loading the definitions reads no environment (a bad setting
then fails the sensor's tick with its message, not the code location). The daemon evaluates a sensor every few
seconds at most whatever this says; a sensor that should look less often (the inbox: BILLING_INBOX_POLL_SECONDS;
redeliveries) keeps the time of its last look in its cursor and reads its setting when it ticks.
"""

TICK_SECONDS = 1
