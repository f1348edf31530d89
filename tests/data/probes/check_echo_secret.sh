#!/bin/sh
# Prints its argument and an environment variable, as a careless plugin might.
echo "AUTH CRITICAL - token $1 rejected (env: ${API_TOKEN}) | time=0.25s;1;2"
echo "long output mentions $1 again"
exit 2
