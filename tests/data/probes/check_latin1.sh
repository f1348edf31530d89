#!/bin/sh
# Non-UTF-8 output (Latin-1 "é"): decoded with a replacement character, never an error.
printf 'DISK WARNING - caf\351 volume at 91%% | used=91%%;80;90;0;100\n'
exit 1
