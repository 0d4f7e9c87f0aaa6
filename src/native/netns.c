// Entering another network namespace for a moment, on the calling thread.
//
// A packet socket belongs to the namespace of the thread that creates it, and
// stays there: libpcap's handle, once activated inside a namespace, captures
// on that namespace's interface while the thread goes back where it was.
// setns(2) changes the namespace of the calling thread only, so the rest of
// the process (libuv's threads, Node's own) never leaves its namespace.

#define _GNU_SOURCE
#include "netns.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int netns_enter(const char *path, int *home, char *why, size_t size) {
  *home = -1;
  if (path == NULL || path[0] == '\0') return NETNS_OK;
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    snprintf(why, size, "%s: %s", path, strerror(e));
    return e == ENOENT ? NETNS_MISSING : e == EACCES || e == EPERM ? NETNS_PERM : NETNS_ERROR;
  }
  *home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*home < 0) {
    snprintf(why, size, "cannot open this thread's network namespace: %s", strerror(errno));
    close(target);
    return NETNS_ERROR;
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int e = errno;
    // EINVAL: the file is no network namespace.
    snprintf(why, size, "%s: %s", path, e == EINVAL ? "not a network namespace" : strerror(e));
    close(target);
    close(*home);
    *home = -1;
    return e == EPERM ? NETNS_PERM : e == EINVAL ? NETNS_NOT_NETNS : NETNS_ERROR;
  }
  close(target);
  return NETNS_OK;
}

int netns_leave(int home) {
  if (home < 0) return 0;
  int failed = setns(home, CLONE_NEWNET);
  close(home);
  return failed;
}
