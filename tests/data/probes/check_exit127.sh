#!/bin/sh
echo "check_nothing: not found"
exit 127
