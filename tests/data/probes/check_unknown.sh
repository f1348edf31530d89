#!/bin/sh
echo "BACKUP UNKNOWN - cannot read /var/backups/last-run: permission denied"
exit 3
