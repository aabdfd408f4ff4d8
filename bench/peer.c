// The common peer of the qsocket benchmark: one single-threaded epoll loop
// serving, on 127.0.0.1 with ports chosen by the kernel,
//   tcp_echo  TCP echo (TCP_NODELAY on every accepted connection)
//   tcp_sink  TCP sink: the first 8 bytes of a connection are the count of
//             bytes that follow (little-endian u64); the sink reads and drops
//             them and answers one byte 'K' when all have arrived
//   tcp_idle  accepts and holds connections (closes them on EOF or reset)
//   udp_echo  UDP echo (recvmmsg; each datagram back to its sender)
//   udp_sink  UDP sink: counts datagrams, remembers the first and last arrival
// It prints one JSON line with the ports, then obeys lines on stdin:
//   stats  -> one JSON line of counters      reset -> zero the counters
//   quit   -> exit (end of stdin does too)
// Build: cc -O2 -o peer peer.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { R_NONE, R_STDIN, R_L_ECHO, R_L_SINK, R_L_IDLE, R_ECHO, R_SINK, R_IDLE, R_UDP_ECHO, R_UDP_SINK };

#define MAXFD 65536
#define BATCH 64
#define DGRAM_MAX 2048

static int ep;
static unsigned char role[MAXFD];
// TCP sink state per descriptor.
static uint8_t sink_hdr[MAXFD][8];
static uint8_t sink_hdr_len[MAXFD];
static uint64_t sink_expect[MAXFD], sink_got[MAXFD];
// Echo output that the kernel did not take at once (rare: only when a client
// stops reading); reading from that connection pauses until it is gone.
static char *pend_buf[MAXFD];
static size_t pend_len[MAXFD], pend_off[MAXFD];

static uint64_t udp_sink_count, udp_sink_first_ns, udp_sink_last_ns, udp_sink_bytes;
static uint64_t udp_echo_count, tcp_sink_bytes, tcp_echo_bytes;
static long idle_now, idle_accepted, idle_peak, accept_fail;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "peer: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void watch(int fd, int r, uint32_t events) {
  role[fd] = (unsigned char)r;
  struct epoll_event e = {.events = events, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl add");
}

static void rewatch(int fd, uint32_t events) {
  struct epoll_event e = {.events = events, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static void drop(int fd) {
  if (role[fd] == R_IDLE) idle_now--;
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  free(pend_buf[fd]);
  pend_buf[fd] = NULL;
  pend_len[fd] = pend_off[fd] = 0;
  sink_hdr_len[fd] = 0;
  sink_expect[fd] = sink_got[fd] = 0;
  role[fd] = R_NONE;
  close(fd);
}

static int listener(int type, int *port) {
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (type == SOCK_STREAM && listen(fd, 65535) < 0) die("listen");
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return fd;
}

static void on_accept(int lfd) {
  int r = role[lfd] == R_L_ECHO ? R_ECHO : role[lfd] == R_L_SINK ? R_SINK : R_IDLE;
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      accept_fail++;
      return;  // EMFILE and the like: try again on the next readiness event
    }
    if (fd >= MAXFD) {
      close(fd);
      accept_fail++;
      continue;
    }
    if (r == R_ECHO) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (r == R_IDLE) {
      idle_now++;
      idle_accepted++;
      if (idle_now > idle_peak) idle_peak = idle_now;
    }
    watch(fd, r, EPOLLIN | EPOLLRDHUP);
  }
}

static char iobuf[256 * 1024];

static void flush_pending(int fd) {
  while (pend_off[fd] < pend_len[fd]) {
    ssize_t n = send(fd, pend_buf[fd] + pend_off[fd], pend_len[fd] - pend_off[fd], MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      pend_off[fd] += (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    drop(fd);
    return;
  }
  free(pend_buf[fd]);
  pend_buf[fd] = NULL;
  pend_len[fd] = pend_off[fd] = 0;
  rewatch(fd, EPOLLIN | EPOLLRDHUP);
}

static void on_echo(int fd, uint32_t ev) {
  if (pend_buf[fd]) {
    if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) flush_pending(fd);
    return;
  }
  ssize_t n = recv(fd, iobuf, sizeof iobuf, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    drop(fd);
    return;
  }
  if (n < 0) return;
  tcp_echo_bytes += (uint64_t)n;
  size_t off = 0;
  while (off < (size_t)n) {
    ssize_t w = send(fd, iobuf + off, (size_t)n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pend_len[fd] = (size_t)n - off;
      pend_off[fd] = 0;
      pend_buf[fd] = malloc(pend_len[fd]);
      memcpy(pend_buf[fd], iobuf + off, pend_len[fd]);
      rewatch(fd, EPOLLOUT);
      return;
    }
    drop(fd);
    return;
  }
}

static void on_sink(int fd) {
  for (int i = 0; i < 16; i++) {
    ssize_t n = recv(fd, iobuf, sizeof iobuf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      drop(fd);
      return;
    }
    if (n < 0) return;
    size_t off = 0;
    while (sink_hdr_len[fd] < 8 && off < (size_t)n) sink_hdr[fd][sink_hdr_len[fd]++] = (uint8_t)iobuf[off++];
    if (sink_hdr_len[fd] == 8 && sink_expect[fd] == 0) {
      uint64_t v = 0;
      for (int b = 7; b >= 0; b--) v = (v << 8) | sink_hdr[fd][b];
      sink_expect[fd] = v ? v : UINT64_MAX;  // 0: no answer, just drain until EOF
    }
    uint64_t body = (uint64_t)n - off;
    tcp_sink_bytes += body;
    if (sink_expect[fd] != 0) {
      uint64_t before = sink_got[fd];
      sink_got[fd] += body;
      if (before < sink_expect[fd] && sink_got[fd] >= sink_expect[fd] && sink_expect[fd] != UINT64_MAX) {
        char k = 'K';
        send(fd, &k, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
    }
    if ((size_t)n < sizeof iobuf) return;
  }
}

static void on_idle(int fd) {
  ssize_t n = recv(fd, iobuf, sizeof iobuf, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) drop(fd);
}

static struct mmsghdr msgs[BATCH];
static struct iovec iovs[BATCH];
static struct sockaddr_in6 addrs[BATCH];
static char dgrams[BATCH][DGRAM_MAX];

static void udp_prepare(void) {
  for (int i = 0; i < BATCH; i++) {
    iovs[i].iov_base = dgrams[i];
    iovs[i].iov_len = DGRAM_MAX;
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addrs[i];
  }
}

static void on_udp(int fd) {
  for (int rounds = 0; rounds < 64; rounds++) {
    for (int i = 0; i < BATCH; i++) {
      msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
      iovs[i].iov_len = DGRAM_MAX;
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    if (role[fd] == R_UDP_SINK) {
      uint64_t t = now_ns();
      if (udp_sink_count == 0) udp_sink_first_ns = t;
      udp_sink_last_ns = t;
      udp_sink_count += (uint64_t)n;
      for (int i = 0; i < n; i++) udp_sink_bytes += msgs[i].msg_len;
    } else {
      for (int i = 0; i < n; i++) iovs[i].iov_len = msgs[i].msg_len;
      int off = 0;
      while (off < n) {
        int s = sendmmsg(fd, msgs + off, (unsigned)(n - off), MSG_DONTWAIT);
        if (s <= 0) break;  // a full buffer drops the echo, as UDP may
        off += s;
      }
      udp_echo_count += (uint64_t)n;
    }
    if (n < BATCH) return;
  }
}

static char cmdbuf[4096];
static size_t cmdlen;

static void stats(void) {
  printf(
      "{\"udp_sink_count\":%llu,\"udp_sink_bytes\":%llu,\"udp_sink_span_ns\":%llu,\"udp_echo_count\":%llu,"
      "\"tcp_sink_bytes\":%llu,\"tcp_echo_bytes\":%llu,\"idle_now\":%ld,\"idle_accepted\":%ld,\"idle_peak\":%ld,"
      "\"accept_fail\":%ld}\n",
      (unsigned long long)udp_sink_count, (unsigned long long)udp_sink_bytes,
      (unsigned long long)(udp_sink_count ? udp_sink_last_ns - udp_sink_first_ns : 0),
      (unsigned long long)udp_echo_count, (unsigned long long)tcp_sink_bytes, (unsigned long long)tcp_echo_bytes,
      idle_now, idle_accepted, idle_peak, accept_fail);
  fflush(stdout);
}

static void on_stdin(void) {
  ssize_t n = read(0, cmdbuf + cmdlen, sizeof cmdbuf - cmdlen - 1);
  if (n <= 0) exit(0);
  cmdlen += (size_t)n;
  char *nl;
  while ((nl = memchr(cmdbuf, '\n', cmdlen)) != NULL) {
    *nl = 0;
    if (strcmp(cmdbuf, "stats") == 0) {
      stats();
    } else if (strcmp(cmdbuf, "reset") == 0) {
      udp_sink_count = udp_sink_first_ns = udp_sink_last_ns = udp_sink_bytes = 0;
      udp_echo_count = tcp_sink_bytes = tcp_echo_bytes = 0;
      idle_accepted = idle_peak = accept_fail = 0;
      idle_peak = idle_now;
      printf("{\"ok\":true}\n");
      fflush(stdout);
    } else if (strcmp(cmdbuf, "quit") == 0) {
      exit(0);
    }
    size_t used = (size_t)(nl - cmdbuf) + 1;
    memmove(cmdbuf, cmdbuf + used, cmdlen - used);
    cmdlen -= used;
  }
  if (cmdlen == sizeof cmdbuf - 1) cmdlen = 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  udp_prepare();
  int p_echo, p_sink, p_idle, p_uecho, p_usink;
  int l_echo = listener(SOCK_STREAM, &p_echo);
  int l_sink = listener(SOCK_STREAM, &p_sink);
  int l_idle = listener(SOCK_STREAM, &p_idle);
  int u_echo = listener(SOCK_DGRAM, &p_uecho);
  int u_sink = listener(SOCK_DGRAM, &p_usink);
  // The sink's queue is made large (8 MiB, past rmem_max as root) so that the
  // senders are measured, not the sink's scheduling; the echo keeps the default.
  int big = 8 << 20;
  if (setsockopt(u_sink, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
    setsockopt(u_sink, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  int got = 0;
  socklen_t gl = sizeof got;
  getsockopt(u_sink, SOL_SOCKET, SO_RCVBUF, &got, &gl);
  watch(l_echo, R_L_ECHO, EPOLLIN);
  watch(l_sink, R_L_SINK, EPOLLIN);
  watch(l_idle, R_L_IDLE, EPOLLIN);
  watch(u_echo, R_UDP_ECHO, EPOLLIN);
  watch(u_sink, R_UDP_SINK, EPOLLIN);
  watch(0, R_STDIN, EPOLLIN);
  getrlimit(RLIMIT_NOFILE, &rl);
  printf(
      "{\"tcp_echo\":%d,\"tcp_sink\":%d,\"tcp_idle\":%d,\"udp_echo\":%d,\"udp_sink\":%d,\"pid\":%d,"
      "\"udp_sink_rcvbuf\":%d,\"nofile\":%llu}\n",
      p_echo, p_sink, p_idle, p_uecho, p_usink, (int)getpid(), got, (unsigned long long)rl.rlim_cur);
  fflush(stdout);

  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      uint32_t ev = evs[i].events;
      switch (role[fd]) {
        case R_STDIN: on_stdin(); break;
        case R_L_ECHO:
        case R_L_SINK:
        case R_L_IDLE: on_accept(fd); break;
        case R_ECHO: on_echo(fd, ev); break;
        case R_SINK: on_sink(fd); break;
        case R_IDLE: on_idle(fd); break;
        case R_UDP_ECHO:
        case R_UDP_SINK: on_udp(fd); break;
        default: break;  // dropped earlier in this batch
      }
    }
  }
}
