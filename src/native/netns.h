// netns.c: run a few calls inside another network namespace, on this thread.
#ifndef TUNSCOPE_NETNS_H
#define TUNSCOPE_NETNS_H
#include <stddef.h>

enum { NETNS_OK = 0, NETNS_MISSING, NETNS_PERM, NETNS_NOT_NETNS, NETNS_ERROR };

/**
 * Moves the calling thread into the network namespace of `path` (a file such as
 * /run/netns/NAME or /proc/PID/ns/net); NULL or "" stays. `home` receives a
 * descriptor for netns_leave (-1 when nothing changed). On failure, the thread
 * has not moved and `why` says why.
 */
int netns_enter(const char *path, int *home, char *why, size_t size);

/** Back to where netns_enter found the thread; 0 on success. */
int netns_leave(int home);

#endif
