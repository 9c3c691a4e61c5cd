#!/bin/sh
# The reload methods' tests again where no command can get a cgroup of its
# own (a read-only cgroup file system, as under a unit with
# ProtectControlGroups=yes): the fallback to the command's session must
# still kill what it can see and claim no more.  The file system is
# read-only in a mount namespace of this test's alone.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_cmd unshare mount
# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ...
cg=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
	/proc/self/mountinfo)
[ -n "$cg" ] || skip_all "no cgroup v2 file system is mounted"
exec unshare --mount --propagation private sh -c \
	'mount -o bind,remount,ro "$1" && exec "$2"' sh "$cg" "$TESTS_BUILDDIR/test-reload"
