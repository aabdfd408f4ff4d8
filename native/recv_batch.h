// The arrays every datagram batch of one environment lands in. lib/ registers
// them once (setRecvArrays); the message headers that point into them are
// set up then, so a recvmmsg call only resets what the kernel changed in the
// headers it used last time, and takes no arguments across the boundary.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cstdint>

namespace qs {

constexpr int kMaxBatch = 64;
// Room for IP_PKTINFO/IPV6_PKTINFO, the hop limit and a timestamp.
constexpr size_t kCmsgSpace = 128;

class RecvBatch {
 public:
  // setRecvArrays(slab: Uint8Array, slotSize, meta: Int32Array, addrs: Uint8Array,
  // dsts: Uint8Array, owner: int32) -> the batch size (min of what each array holds,
  // at most 64). `owner` names who registered them: two copies of lib/ loaded in
  // one environment would otherwise read each other's datagrams.
  static Napi::Value Register(const Napi::CallbackInfo& info);

  int32_t owner() const { return owner_; }

  // Up to a batch of datagrams from fd → count | -errno. Datagram i's length goes to
  // meta[4i] (above the slot size: truncated), its hop limit to meta[4i+1], its
  // SO_TIMESTAMPNS to meta[4i+2..3], its sender to addrs[i*ADDR_SIZE], its destination
  // (with local_port) to dsts[i*ADDR_SIZE]; then the data is packed to the slab's front.
  int Receive(int fd, uint16_t local_port);

 private:
  struct Headers {
    sockaddr_storage names[kMaxBatch];
    iovec iov[kMaxBatch];
    alignas(cmsghdr) uint8_t control[kMaxBatch][kCmsgSpace];
    mmsghdr msgs[kMaxBatch];
  };

  void Reset(size_t i);

  Napi::Reference<Napi::Uint8Array> slab_ref_, addrs_ref_, dsts_ref_;
  Napi::Reference<Napi::Int32Array> meta_ref_;
  uint8_t* slab_ = nullptr;
  size_t slot_ = 0;
  int32_t* meta_ = nullptr;
  uint8_t* addrs_ = nullptr;
  uint8_t* dsts_ = nullptr;
  size_t count_ = 0;
  int32_t owner_ = 0;
  Headers h_;
};

}  // namespace qs
