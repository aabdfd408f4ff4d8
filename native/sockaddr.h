// A neutral, fixed layout for socket addresses shared with TypeScript, so that
// the TS side never depends on the OS's sockaddr layout (sin_len on BSD, ...).
//
//   [0]      kind: 0 none, 4 IPv4, 6 IPv6, 1 UNIX-domain
//   [2..3]   port, big-endian
//   [4..7]   IPv6 scope id, big-endian; for UNIX, the path length
//   [8..23]  address bytes in network order (4 or 16 used)
//   [8..]    for UNIX, the path bytes (abstract names start with a NUL)
#pragma once

#include <cstdint>
#include <sys/socket.h>

namespace qs {

constexpr int kAddrSize = 128;
constexpr uint8_t kAddrNone = 0, kAddrUnix = 1, kAddrV4 = 4, kAddrV6 = 6;

// Returns 0, or -EINVAL for a kind or path that cannot be encoded.
int addr_decode(const uint8_t* in, sockaddr_storage* out, socklen_t* len);

void addr_encode(const sockaddr* sa, socklen_t len, uint8_t* out);

}  // namespace qs
