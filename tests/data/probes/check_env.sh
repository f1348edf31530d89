#!/bin/sh
# Lists the variables the program was given, in one line.
echo "ENV OK - $(env | cut -d= -f1 | grep -v '^PWD$' | grep -v '^SHLVL$' | grep -v '^_$' | sort | tr '\n' ' ')"
