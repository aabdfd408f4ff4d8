// The C reference clients of the qsocket benchmark: the physical floor that
// the JavaScript clients are compared with. Each run prints one JSON line.
//
//   client tcp-rtt    PORT SIZE N WARM [blocking|busy] [--no-timing]
//   client udp-rtt    PORT SIZE N WARM [--no-timing]
//   client tcp-bulk   PORT TOTAL CHUNK
//   client udp-blast  PORT COUNT SIZE          (sendmmsg, 64 a call, to the sink)
//   client udp-burst  PORT BURST SIZE          (sender for a receiver under test: a burst per "burst" line on stdin)
//   client udp-recv   SIZE CYCLES SLEEP_MS     (recvmmsg receiver; prints its port, then {"sleep":k} per cycle)
//   client idle       PORT N                   (N connections held; waits for stdin to close)
//
// Build: cc -O2 -o client client.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static double cpu_us(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void fail(const char *what) {
  printf("{\"error\":\"%s: %s\"}\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// Nearest-rank percentile of a sorted array (the JS clients use the same rule).
static double pct(const double *s, long n, double p) {
  long k = (long)(p * (double)n + 0.999999999) - 1;
  if (k < 0) k = 0;
  if (k >= n) k = n - 1;
  return s[k];
}

static void print_rtt(const char *workload, const char *variant, int size, long n, double *lat, int timing,
                      double cpu, double wall) {
  printf("{\"impl\":\"c\",\"workload\":\"%s\",\"variant\":\"%s\",\"size\":%d,\"n\":%ld", workload, variant, size, n);
  if (timing) {
    double sum = 0;
    for (long i = 0; i < n; i++) sum += lat[i];
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf(",\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"mean\":%.3f,\"min\":%.3f,\"max\":%.3f", pct(lat, n, 0.5),
           pct(lat, n, 0.99), pct(lat, n, 0.999), sum / (double)n, lat[0], lat[n - 1]);
  }
  printf(",\"cpu_us_per_msg\":%.3f,\"wall_s\":%.4f}\n", cpu / (double)n, wall / 1e6);
  fflush(stdout);
}

static void recv_full(int fd, char *buf, int size, int busy) {
  int got = 0;
  while (got < size) {
    ssize_t r = recv(fd, buf + got, (size_t)(size - got), busy ? MSG_DONTWAIT : 0);
    if (r > 0) {
      got += (int)r;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    fail(r == 0 ? "peer closed" : "recv");
  }
}

static void send_full(int fd, const char *buf, size_t size) {
  size_t off = 0;
  while (off < size) {
    ssize_t w = send(fd, buf + off, size - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    fail("send");
  }
}

static int tcp_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  struct sockaddr_in a = loopback(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) fail("connect");
  return fd;
}

static int rtt(int udp, int port, int size, long n, long warm, int busy, int timing) {
  int fd;
  if (udp) {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = loopback(port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) fail("udp connect");
  } else {
    fd = tcp_connect(port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  char *msg = malloc((size_t)size), *in = malloc((size_t)size);
  memset(msg, 'x', (size_t)size);
  double *lat = timing ? malloc(sizeof(double) * (size_t)n) : NULL;
  for (long i = 0; i < warm; i++) {
    send_full(fd, msg, (size_t)size);
    if (udp) {
      if (recv(fd, in, (size_t)size, 0) < 0) fail("recv");
    } else {
      recv_full(fd, in, size, busy);
    }
  }
  double c0 = cpu_us(), w0 = now_us();
  for (long i = 0; i < n; i++) {
    double t0 = timing ? now_us() : 0;
    if (udp) {
      if (send(fd, msg, (size_t)size, 0) < 0) fail("send");
      for (;;) {
        ssize_t r = recv(fd, in, (size_t)size, busy ? MSG_DONTWAIT : 0);
        if (r >= 0) break;
        if (errno != EAGAIN && errno != EINTR) fail("recv");
      }
    } else {
      send_full(fd, msg, (size_t)size);
      recv_full(fd, in, size, busy);
    }
    if (timing) lat[i] = now_us() - t0;
  }
  double wall = now_us() - w0, cpu = cpu_us() - c0;
  print_rtt(udp ? "udp-rtt" : "tcp-rtt", busy ? "busy" : "blocking", size, n, lat, timing, cpu, wall);
  close(fd);
  return 0;
}

static int tcp_bulk(int port, uint64_t total, size_t chunk) {
  int fd = tcp_connect(port);
  char *buf = malloc(chunk);
  memset(buf, 'b', chunk);
  uint8_t hdr[8];
  for (int i = 0; i < 8; i++) hdr[i] = (uint8_t)(total >> (8 * i));
  double c0 = cpu_us(), w0 = now_us();
  send_full(fd, (char *)hdr, 8);
  uint64_t sent = 0;
  while (sent < total) {
    size_t want = total - sent < chunk ? (size_t)(total - sent) : chunk;
    send_full(fd, buf, want);
    sent += want;
  }
  char k;
  if (recv(fd, &k, 1, 0) != 1) fail("ack");
  double wall = now_us() - w0, cpu = cpu_us() - c0;
  printf("{\"impl\":\"c\",\"workload\":\"tcp-bulk\",\"variant\":\"blocking\",\"bytes\":%llu,\"chunk\":%zu,"
         "\"mbps\":%.1f,\"cpu_us_per_mb\":%.2f,\"wall_s\":%.4f}\n",
         (unsigned long long)total, chunk, (double)total / wall, cpu / ((double)total / 1e6), wall / 1e6);
  fflush(stdout);
  close(fd);
  return 0;
}

#define BATCH 64

// Sends COUNT datagrams of SIZE bytes with sendmmsg, 64 a call, each with its
// destination (as qsocket's writeDatagrams does); the first byte is `tag`.
static double blast(int fd, int port, long count, int size, char tag, long *calls_out) {
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov;
  static struct sockaddr_in dst;
  char *payload = malloc((size_t)size);
  memset(payload, 'x', (size_t)size);
  payload[0] = tag;
  dst = loopback(port);
  iov.iov_base = payload;
  iov.iov_len = (size_t)size;
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dst;
    msgs[i].msg_hdr.msg_namelen = sizeof dst;
  }
  long sent = 0, calls = 0;
  double w0 = now_us();
  while (sent < count) {
    unsigned want = count - sent < BATCH ? (unsigned)(count - sent) : BATCH;
    int r = sendmmsg(fd, msgs, want, 0);
    calls++;
    if (r > 0) {
      sent += r;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)) continue;
    fail("sendmmsg");
  }
  *calls_out = calls;
  free(payload);
  return now_us() - w0;
}

static int udp_blast(int port, long count, int size) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  long calls;
  double c0 = cpu_us();
  double wall = blast(fd, port, count, size, 'D', &calls);
  double cpu = cpu_us() - c0;
  printf("{\"impl\":\"c\",\"workload\":\"udp-blast\",\"variant\":\"sendmmsg\",\"sent\":%ld,\"size\":%d,"
         "\"send_rate\":%.0f,\"cpu_us_per_msg\":%.4f,\"wall_s\":%.4f}\n",
         count, size, (double)count / (wall / 1e6), cpu / (double)count, wall / 1e6);
  fflush(stdout);
  close(fd);
  return 0;
}

// The sender of the receive-side test: on each line "burst" on stdin, BURST
// data datagrams ('D') with sendmmsg, then one end marker ('E'); prints how
// long the burst took. The receiver is asleep meanwhile, so the datagrams
// wait in its queue and its drain is measured without this sender in the way.
static int udp_burst(int port, long burst, int size) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  char line[64];
  long bursts = 0;
  while (fgets(line, sizeof line, stdin) != NULL) {
    if (strncmp(line, "burst", 5) != 0) break;
    long calls;
    double w0 = now_us();
    blast(fd, port, burst, size, 'D', &calls);
    blast(fd, port, 1, size, 'E', &calls);
    bursts++;
    printf("{\"burst\":%ld,\"sent\":%ld,\"us\":%.0f}\n", bursts, burst, now_us() - w0);
    fflush(stdout);
  }
  close(fd);
  return 0;
}

// The C receiver of the receive-side test. For each of CYCLES: print
// {"sleep":k}, sleep SLEEP_MS (the sender fills the queue meanwhile), then
// drain with recvmmsg until the end marker; the rate is datagrams over the
// summed drain times.
static int udp_recv(int size, int cycles, int sleep_ms) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = loopback(0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) fail("bind");
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  struct timeval tv = {.tv_sec = 3, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // The same 4 MiB queue every receiver asks for (the kernel doubles it).
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  socklen_t rl = sizeof rcvbuf;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl);
  printf("{\"port\":%d}\n", ntohs(a.sin_port));
  fflush(stdout);
  static struct mmsghdr msgs[BATCH];
  static struct iovec iovs[BATCH];
  static struct sockaddr_in from[BATCH];
  static char bufs[BATCH][2048];
  for (int i = 0; i < BATCH; i++) {
    iovs[i].iov_base = bufs[i];
    iovs[i].iov_len = sizeof bufs[i];
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
  }
  long count = 0, calls = 0;
  int incomplete = 0;
  double drain = 0, cpu = 0;
  for (int c = 0; c <= cycles; c++) {  // cycle 0 warms up and is not counted
    printf("{\"sleep\":%d}\n", c + 1);
    fflush(stdout);
    usleep((useconds_t)sleep_ms * 1000);
    double t0 = now_us(), c0 = cpu_us();
    int done = 0;
    while (!done) {
      for (int i = 0; i < BATCH; i++) msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
      calls++;
      if (n < 0) {
        if (errno == EINTR) continue;
        incomplete++;  // SO_RCVTIMEO: the marker was lost
        break;
      }
      for (int i = 0; i < n; i++) {
        if (bufs[i][0] == 'E') done = 1;
        else count++;
      }
    }
    if (c == 0) {
      count = 0;
      incomplete = 0;
      continue;
    }
    drain += now_us() - t0;
    cpu += cpu_us() - c0;
  }
  printf("{\"impl\":\"c\",\"workload\":\"udp-recv\",\"variant\":\"recvmmsg\",\"received\":%ld,\"size\":%d,"
         "\"recv_rate\":%.0f,\"drain_s\":%.4f,\"cpu_us_per_msg\":%.4f,\"incomplete\":%d,\"rcvbuf\":%d,\"calls\":%ld}\n",
         count, size, drain > 0 ? (double)count / (drain / 1e6) : 0, drain / 1e6, count ? cpu / (double)count : 0,
         incomplete, rcvbuf, calls);
  fflush(stdout);
  return 0;
}

static int idle(int port, int n) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int *fds = calloc((size_t)n, sizeof(int));
  char *done = calloc((size_t)n, 1);
  int ep = epoll_create1(0);
  struct epoll_event *evs = malloc(sizeof(struct epoll_event) * 1024);
  long rss0 = rss_kb();
  struct sockaddr_in a = loopback(port);
  double w0 = now_us();
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fds[i] < 0) fail("socket");
    int r = connect(fds[i], (struct sockaddr *)&a, sizeof a);
    if (r < 0 && errno != EINPROGRESS) fail("connect");
    struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
  }
  int connected = 0, failed = 0;
  while (connected + failed < n) {
    int k = epoll_wait(ep, evs, 1024, 10000);
    if (k <= 0) break;
    for (int j = 0; j < k; j++) {
      int i = (int)evs[j].data.u32;
      if (done[i]) continue;
      done[i] = 1;
      int err = 0;
      socklen_t el = sizeof err;
      getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &el);
      if (err) failed++;
      else connected++;
      epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
    }
  }
  double wall = now_us() - w0;
  usleep(200000);
  long rss1 = rss_kb();
  printf("{\"impl\":\"c\",\"workload\":\"idle\",\"variant\":\"epoll\",\"n\":%d,\"connected\":%d,\"failed\":%d,"
         "\"establish_ms\":%.2f,\"rss_per_conn_bytes\":%.1f,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld}\n",
         n, connected, failed, wall / 1e3, (double)(rss1 - rss0) * 1024.0 / n, rss0, rss1);
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  // Reset instead of FIN: no TIME_WAIT left on this side to exhaust the ports of later rounds.
  struct linger lg = {1, 0};
  for (int i = 0; i < n; i++) {
    setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fds[i]);
  }
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    fprintf(stderr, "usage: see the comment at the top of client.c\n");
    return 2;
  }
  int timing = 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--no-timing") == 0) timing = 0;
  const char *m = argv[1];
  if (strcmp(m, "tcp-rtt") == 0 && argc >= 6)
    return rtt(0, atoi(argv[2]), atoi(argv[3]), atol(argv[4]), atol(argv[5]), argc > 6 && strcmp(argv[6], "busy") == 0,
               timing);
  if (strcmp(m, "udp-rtt") == 0 && argc >= 6)
    return rtt(1, atoi(argv[2]), atoi(argv[3]), atol(argv[4]), atol(argv[5]), argc > 6 && strcmp(argv[6], "busy") == 0,
               timing);
  if (strcmp(m, "tcp-bulk") == 0 && argc >= 5)
    return tcp_bulk(atoi(argv[2]), strtoull(argv[3], NULL, 10), (size_t)atol(argv[4]));
  if (strcmp(m, "udp-blast") == 0 && argc >= 5) return udp_blast(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
  if (strcmp(m, "udp-burst") == 0 && argc >= 5) return udp_burst(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
  if (strcmp(m, "udp-recv") == 0 && argc >= 5) return udp_recv(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  if (strcmp(m, "idle") == 0 && argc >= 4) return idle(atoi(argv[2]), atoi(argv[3]));
  fprintf(stderr, "client: bad arguments\n");
  return 2;
}
