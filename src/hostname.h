/*
 * hostname.h - the host's own fully-qualified name: what certwatch says in
 * SMTP's EHLO and LMTP's LHLO unless ehlo-name says otherwise.
 *
 * MTAs commonly reject a greeting that names one of their own names or
 * addresses (the name they serve, [127.0.0.1]) as forged.  The host's own
 * name, fully qualified, is what a mail client on the host says (Postfix's
 * smtp client sends myhostname), and such checks let it through.
 */
#pragma once

#include <stddef.h>

#define HOSTNAME_MAX 253

/*
 * Chooses the name from what the system says: nodename (gethostname()) if
 * it is fully qualified, else canonical (its canonical name, may be NULL)
 * if that is, else nodename with ".localdomain" appended, as Postfix does
 * for myhostname; "localhost.localdomain" when nodename is empty or holds
 * anything but letters, digits, '-', '_' and dots.  Pure.
 */
void hostname_choose(const char *nodename, const char *canonical, char out[HOSTNAME_MAX + 1]);

/*
 * The host's name as hostname_choose() makes it from gethostname() and, only
 * when that is not fully qualified, the canonical name the resolver gives
 * (the hosts file, usually).  Computed once per process.
 */
const char *hostname_fqdn(void);
