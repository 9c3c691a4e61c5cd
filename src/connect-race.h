/*
 * connect-race.h - a TCP connection to one of a name's addresses, the way
 * RFC 8305 (Happy Eyeballs version 2) says: one address at a time, the
 * next one started when the last one failed or after the connection
 * attempt delay (250 ms) without an answer, the attempts racing, the
 * first to connect kept and the others closed.  A first address that
 * drops SYNs (a dead host, a firewall) then costs 250 ms instead of the
 * probe's whole deadline.  The deadline itself is the caller's.
 *
 * The addresses are taken in getaddrinfo()'s order (RFC 6724's
 * preference), interleaved by family: IPv6, IPv4, IPv6, ... when the
 * first is IPv6.
 *
 * A socket that cannot be made for want of descriptors or memory is
 * certwatch's shortage, not the server's fault: while other attempts run
 * the address waits its turn again; when none runs, the race ends as
 * starved, and the caller queues the probe instead of failing it.
 */
#pragma once

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#define CONNECT_RACE_DELAY_USEC (250 * UINT64_C(1000))   /* RFC 8305 section 5 */
#define CONNECT_RACE_MAX        8   /* attempts in flight at once, for one connection */

struct connect_race;

enum connect_race_end {
	CONNECT_RACE_CONNECTED,   /* fd is connected to peer */
	CONNECT_RACE_FAILED,      /* every address failed; error is the last failure's */
	CONNECT_RACE_STARVED,     /* no socket could be made (error: EMFILE, ENOMEM, ...) */
};

/*
 * Called once: with the connected socket (the callee's; O_NONBLOCK) and
 * its address "ip:port" / "[ip6]:port"; or with fd -1 and the errno.
 * It may free the race.
 */
typedef void (*connect_race_done_t)(enum connect_race_end end, int fd, int error,
				    const char *peer, void *userdata);

/*
 * Starts connecting to addrs (borrowed until done or free), done called
 * from the loop or from within this call when it ends at once.  Returns 0
 * and *ret (set before done can run), or -ENOMEM.
 */
int connect_race_start(sd_event *event, const struct addrinfo *addrs, connect_race_done_t done,
		       void *userdata, struct connect_race **ret);

/* "127.0.0.2:443 and [::1]:443": the addresses still being tried, for a timeout's message. */
void connect_race_describe(const struct connect_race *r, char *buf, size_t len);

/* How many addresses were tried. */
size_t connect_race_tried(const struct connect_race *r);

/* Closes every attempt; done is not called.  NULL is fine. */
void connect_race_free(struct connect_race *r);

/* "ip:port" or "[ip6]:port" of sa. */
void connect_race_format_peer(const struct sockaddr *sa, char *out, size_t len);

/* Whether errno e, from socket(), is certwatch's own shortage. */
bool connect_race_local_shortage(int e);
