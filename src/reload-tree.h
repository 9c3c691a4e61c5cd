/*
 * reload-tree.h - every process a command started, found however it
 * tried to leave: internal to reload-command.c.
 *
 * A command runs in a session and process group of its own, but anything
 * it starts may call setsid() again and leave both.  A cgroup is the one
 * thing a process cannot leave by itself: so each command gets a cgroup
 * v2 of its own, made below certwatch's own cgroup (the unit delegates its
 * subtree; as root outside systemd it is writable too), which the child
 * joins between fork and exec.  Where none can be made (no cgroup v2, a
 * read-only /sys/fs/cgroup), the tree is the command's session, found in
 * /proc, and what left it cannot be seen: the tree says so, and never
 * claims more than it can see.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct reload_tree;

/*
 * Makes the tree of the command about to be forked; its cgroup when one
 * can be made.  Returns 0 or -ENOMEM; without a cgroup it still succeeds,
 * and reload_tree_unconfined() says why.
 */
int reload_tree_new(struct reload_tree **ret);

/*
 * The descriptor the child writes "0" to, between fork and exec, to join
 * the cgroup (async-signal-safe: one write()); -1 without a cgroup.
 */
int reload_tree_join_fd(const struct reload_tree *t);

/* After the exec: pid leads the command's session; whether it is in the cgroup is checked. */
void reload_tree_attach(struct reload_tree *t, pid_t pid);

/* Why the tree has no cgroup ("" when it has one), for people. */
const char *reload_tree_unconfined(const struct reload_tree *t);

/* Sends sig to every process of the tree. */
void reload_tree_signal(struct reload_tree *t, int sig);

/* No process of the tree is left (but zombies the caller has yet to reap). */
bool reload_tree_empty(const struct reload_tree *t);

/*
 * "4242 (sleep), 4243 (nginx)": the processes of the tree still there,
 * at most a few, then "and N more"; "" when none.
 */
void reload_tree_describe(const struct reload_tree *t, char *buf, size_t len);

/*
 * Lets the tree go: what is left keeps running, moved back to certwatch's
 * own cgroup, and the command's cgroup is removed.  NULL is fine.
 */
void reload_tree_free(struct reload_tree *t);

/*
 * Whether commands can get a cgroup of their own here; when not, why, in
 * why.  For the daemon to say once at start.
 */
bool reload_tree_supported(char *why, size_t len);
