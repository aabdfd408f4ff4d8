#include "sockaddr.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <netinet/in.h>
#include <sys/un.h>

namespace qs {

namespace {

uint32_t get_be32(const uint8_t* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void put_be32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

}  // namespace

int addr_decode(const uint8_t* in, sockaddr_storage* out, socklen_t* len) {
  memset(out, 0, sizeof *out);
  uint16_t port = (uint16_t)(in[2] << 8 | in[3]);
  switch (in[0]) {
    case kAddrV4: {
      auto* sin = reinterpret_cast<sockaddr_in*>(out);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      memcpy(&sin->sin_addr, in + 8, 4);
      *len = sizeof *sin;
      return 0;
    }
    case kAddrV6: {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(port);
      sin6->sin6_scope_id = get_be32(in + 4);
      memcpy(&sin6->sin6_addr, in + 8, 16);
      *len = sizeof *sin6;
      return 0;
    }
    case kAddrUnix: {
      auto* sun = reinterpret_cast<sockaddr_un*>(out);
      uint32_t n = get_be32(in + 4);
      if (n > sizeof sun->sun_path || 8 + n > (uint32_t)kAddrSize) return -EINVAL;
      sun->sun_family = AF_UNIX;
      memcpy(sun->sun_path, in + 8, n);
      *len = (socklen_t)(offsetof(sockaddr_un, sun_path) + n);
      return 0;
    }
    default:
      return -EINVAL;
  }
}

void addr_encode(const sockaddr* sa, socklen_t len, uint8_t* out) {
  memset(out, 0, 24);
  if (len < (socklen_t)sizeof(sa_family_t)) return;
  switch (sa->sa_family) {
    case AF_INET: {
      auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
      uint16_t port = ntohs(sin->sin_port);
      out[0] = kAddrV4;
      out[2] = port >> 8; out[3] = port & 0xff;
      memcpy(out + 8, &sin->sin_addr, 4);
      break;
    }
    case AF_INET6: {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
      uint16_t port = ntohs(sin6->sin6_port);
      out[0] = kAddrV6;
      out[2] = port >> 8; out[3] = port & 0xff;
      put_be32(out + 4, sin6->sin6_scope_id);
      memcpy(out + 8, &sin6->sin6_addr, 16);
      break;
    }
    case AF_UNIX: {
      auto* sun = reinterpret_cast<const sockaddr_un*>(sa);
      size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
      if (n > sizeof sun->sun_path) n = sizeof sun->sun_path;
      // A pathname address may carry its terminating NUL in len; an abstract
      // one starts with NUL and its length is exactly len.
      if (n > 0 && sun->sun_path[0] != '\0') n = strnlen(sun->sun_path, n);
      out[0] = kAddrUnix;
      put_be32(out + 4, (uint32_t)n);
      memcpy(out + 8, sun->sun_path, n);
      break;
    }
    default:
      break;
  }
}

}  // namespace qs
