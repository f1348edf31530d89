#!/bin/sh
echo "about to crash"
kill -SEGV $$
