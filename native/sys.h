// Safe system-call wrappers. Each returns its result, or -errno on failure,
// and retries EINTR (except close, see qs_close). No policy lives here.
#pragma once

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // Apple: SO_NOSIGPIPE is set at creation instead.
#endif

namespace qs {

#define QS_RETRY(expr)                                   \
  do {                                                   \
    long r_;                                             \
    do r_ = (long)(expr);                                \
    while (r_ == -1 && errno == EINTR);                  \
    return r_ == -1 ? -errno : r_;                       \
  } while (0)

inline int set_common_flags(int fd) {
#ifdef SO_NOSIGPIPE
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) == -1) return -errno;
#else
  (void)fd;
#endif
  return 0;
}

inline int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) return -errno;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl == -1 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == -1) return -errno;
  return 0;
}

inline int qs_socket(int domain, int type, int protocol) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd == -1 && errno != EINVAL) return -errno;
  if (fd != -1) {
    int e = set_common_flags(fd);
    if (e < 0) { close(fd); return e; }
    return fd;
  }
  // Old kernels reject the atomic flags with EINVAL: fall back to fcntl.
#endif
  fd = socket(domain, type, protocol);
  if (fd == -1) return -errno;
  int e = set_nonblock_cloexec(fd);
  if (e == 0) e = set_common_flags(fd);
  if (e < 0) { close(fd); return e; }
  return fd;
}

inline int qs_accept(int fd, sockaddr* sa, socklen_t* len) {
#if defined(__linux__)
  QS_RETRY(accept4(fd, sa, len, SOCK_NONBLOCK | SOCK_CLOEXEC));
#else
  int c;
  do c = accept(fd, sa, len);
  while (c == -1 && errno == EINTR);
  if (c == -1) return -errno;
  int e = set_nonblock_cloexec(c);
  if (e < 0) { close(c); return e; }
  return c;
#endif
}

inline int qs_connect(int fd, const sockaddr* sa, socklen_t len) {
  int r = connect(fd, sa, len);
  if (r == 0) return 0;
  // An interrupted connect goes on in the background: report it as in
  // progress, like EINPROGRESS (POSIX; Qt's nativeConnect does the same).
  // Retrying would give EALREADY.
  if (errno == EINTR || errno == EALREADY) return -EINPROGRESS;
  return -errno;
}

// Every transfer passes MSG_DONTWAIT as well: O_NONBLOCK lives on the open
// file description, which a descriptor passed to another process shares, and
// that process may well make it blocking (Python's setblocking(True) does).
// The event loop must never block in recv or send because of that.
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0
#endif

inline ssize_t qs_recv(int fd, void* buf, size_t len, int flags) {
  QS_RETRY(recv(fd, buf, len, flags | MSG_DONTWAIT));
}

inline ssize_t qs_send(int fd, const void* buf, size_t len) {
  QS_RETRY(send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT));
}

inline ssize_t qs_sendmsg(int fd, const msghdr* msg) {
  QS_RETRY(sendmsg(fd, msg, MSG_NOSIGNAL | MSG_DONTWAIT));
}

inline ssize_t qs_recvmsg(int fd, msghdr* msg, int flags) {
  QS_RETRY(recvmsg(fd, msg, flags | MSG_DONTWAIT));
}

// close() is never retried: on Linux the descriptor is gone even when close
// reports EINTR, and a retry could close a descriptor another thread just
// opened with the same number (libuv uv__close_nocheckstdio says the same).
inline int qs_close(int fd) {
  int r = close(fd);
  if (r == -1 && errno != EINTR && errno != EINPROGRESS) return -errno;
  return 0;
}

#undef QS_RETRY

}  // namespace qs
