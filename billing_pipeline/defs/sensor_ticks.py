"""How often the daemon may evaluate the sensors.

Fixed here rather than read from a setting, so that loading the definitions reads no environment (a bad setting
then fails the sensor's tick with its message, not the code location). The daemon evaluates a sensor every few
seconds at most whatever this says. The inbox sensor, which should look every BILLING_INBOX_POLL_SECONDS, keeps the
time of its last look in its cursor and reads the setting when it ticks; redelivery_sensor has its own, fixed, 30 s.
"""

TICK_SECONDS = 1
