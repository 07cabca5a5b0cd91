"""How often the daemon may evaluate the sensors.

Fixed here rather than read from a setting, so that loading the definitions reads no environment (a bad setting
then fails the sensor's tick with its message, not the code location). The daemon evaluates a sensor every few
seconds at most whatever this says. The inbox sensor, which should look every BILLING_INBOX_POLL_SECONDS, keeps the
time of its last look in its cursor and reads the setting when it ticks; redelivery_sensor has its own, fixed, 30 s.
"""

# The daemon's sensor loop starts every 5 s, start to start (dagster's MIN_INTERVAL_LOOP_TIME). A sensor's tick
# starts a little earlier or later within each loop as the sensors before it take more or less time, so 5 here
# would skip a loop now and then (a 10 s gap); 4 takes every loop, and the UI's "every ~4 s" is close to the truth
# where 1 said every second. Measured over 90 s of an idle daemon: 17-18 ticks per sensor, 4.4-5.4 s apart.
TICK_SECONDS = 4
