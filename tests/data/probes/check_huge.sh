#!/bin/sh
# A first line with perfdata, then about 1 MB of long output: only the first 4 KB are kept.
echo "HUGE OK - lots to say | rows=42;;;0"
yes "this line repeats to make the output far larger than what the probe keeps" | head -c 1000000
exit 0
