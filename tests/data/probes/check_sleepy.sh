#!/bin/sh
# Starts a child that would outlive it, records the child's pid, then never finishes:
# the probe must kill the whole process group at the deadline.
sleep 60 &
echo $! > "${PID_FILE:?}"
echo "still thinking"
sleep 60
