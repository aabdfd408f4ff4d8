#include "recv_batch.h"

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "addon.h"
#include "sockaddr.h"

namespace qs {

namespace {

// Reads the destination address and hop limit a datagram arrived with, when
// the socket asked for them (IP_PKTINFO, IP_RECVTTL and their IPv6 twins).
// out[0] = hop limit or -1; out[1], out[2] = SO_TIMESTAMPNS seconds and
// nanoseconds, or 0 and -1 when the socket did not ask for them.
void ParseCmsgs(msghdr* msg, uint8_t* dst, int32_t* out, uint16_t local_port) {
  memset(dst, 0, 24);
  int32_t* hops = &out[0];
  *hops = -1;
  out[1] = 0;
  out[2] = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
#ifdef SCM_TIMESTAMPNS
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      out[1] = (int32_t)(uint32_t)ts.tv_sec;  // read back as unsigned: good until 2106
      out[2] = (int32_t)ts.tv_nsec;
      continue;
    }
#endif
#ifdef IP_PKTINFO
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr = pi.ipi_addr;
      sin.sin_port = htons(local_port);
      addr_encode(reinterpret_cast<sockaddr*>(&sin), sizeof sin, dst);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      int ttl;
      memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
      *hops = ttl;
    }
#endif
#ifdef IPV6_PKTINFO
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_addr = pi.ipi6_addr;
      sin6.sin6_port = htons(local_port);
      sin6.sin6_scope_id = pi.ipi6_ifindex;
      addr_encode(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6, dst);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      int h;
      memcpy(&h, CMSG_DATA(c), sizeof h);
      *hops = h;
    }
#endif
  }
}

// Moves datagram i from slab[i*slot] to just after datagram i-1.
void PackSlab(uint8_t* slab, size_t slot, const int32_t* meta, size_t n) {
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = std::min((size_t)meta[4 * i], slot);
    if (at != i * slot) memmove(slab + at, slab + i * slot, len);
    at += len;
  }
}

}  // namespace

Napi::Value RecvBatch::Register(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = Addon::From(env);
  auto bytes = [&](size_t i) -> bool {
    return info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
  };
  if (!bytes(0) || !info[1].IsNumber() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || !bytes(3) || !bytes(4) ||
      !info[5].IsNumber()) {
    Napi::TypeError::New(env, "qsocket: setRecvArrays(slab, slotSize, meta, addrs, dsts, owner)")
        .ThrowAsJavaScriptException();
    return {};
  }
  int64_t slot = info[1].As<Napi::Number>().Int64Value();
  if (slot <= 0 || slot > INT32_MAX - 1) {
    Napi::RangeError::New(env, "qsocket: slot size must be positive").ThrowAsJavaScriptException();
    return {};
  }
  auto slab = info[0].As<Napi::Uint8Array>();
  auto meta = info[2].As<Napi::Int32Array>();
  auto addrs = info[3].As<Napi::Uint8Array>();
  auto dsts = info[4].As<Napi::Uint8Array>();
  auto b = std::make_unique<RecvBatch>();
  b->count_ = std::min({slab.ByteLength() / (size_t)slot, (size_t)kMaxBatch, meta.ElementLength() / 4,
                        addrs.ByteLength() / kAddrSize, dsts.ByteLength() / kAddrSize});
  b->slab_ref_ = Napi::Persistent(slab);
  b->meta_ref_ = Napi::Persistent(meta);
  b->addrs_ref_ = Napi::Persistent(addrs);
  b->dsts_ref_ = Napi::Persistent(dsts);
  b->slab_ = slab.Data();
  b->slot_ = (size_t)slot;
  b->owner_ = info[5].As<Napi::Number>().Int32Value();
  b->meta_ = meta.Data();
  b->addrs_ = addrs.Data();
  b->dsts_ = dsts.Data();
  memset(&b->h_.msgs, 0, sizeof b->h_.msgs);
  for (size_t i = 0; i < b->count_; i++) {
    b->h_.iov[i] = {b->slab_ + i * b->slot_, b->slot_};
    b->h_.msgs[i].msg_hdr.msg_name = &b->h_.names[i];
    b->h_.msgs[i].msg_hdr.msg_iov = &b->h_.iov[i];
    b->h_.msgs[i].msg_hdr.msg_iovlen = 1;
    b->h_.msgs[i].msg_hdr.msg_control = b->h_.control[i];
    b->Reset(i);
  }
  size_t count = b->count_;
  if (addon != nullptr) addon->recv_batch = std::move(b);
  return Napi::Number::New(env, (double)count);
}

// What the kernel changes in a header it filled.
void RecvBatch::Reset(size_t i) {
  msghdr& h = h_.msgs[i].msg_hdr;
  h.msg_namelen = sizeof h_.names[i];
  h.msg_controllen = kCmsgSpace;
  h.msg_flags = 0;
}

int RecvBatch::Receive(int fd, uint16_t local_port) {
  if (count_ == 0) return 0;
  int n;
  do n = recvmmsg(fd, h_.msgs, (unsigned)count_, MSG_DONTWAIT, nullptr);
  while (n == -1 && errno == EINTR);
  if (n == -1) return -errno;
  for (int i = 0; i < n; i++) {
    msghdr* h = &h_.msgs[i].msg_hdr;
    int32_t* m = meta_ + 4 * i;
    m[0] = (h->msg_flags & MSG_TRUNC) ? (int32_t)slot_ + 1 : (int32_t)h_.msgs[i].msg_len;
    addr_encode(reinterpret_cast<sockaddr*>(&h_.names[i]), h->msg_namelen, addrs_ + (size_t)i * kAddrSize);
    ParseCmsgs(h, dsts_ + (size_t)i * kAddrSize, m + 1, local_port);
    Reset((size_t)i);
  }
  PackSlab(slab_, slot_, meta_, (size_t)n);
  return n;
}

}  // namespace qs
