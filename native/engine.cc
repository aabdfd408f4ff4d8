#include "engine.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <cstring>

#include "addon.h"
#include "recv_batch.h"
#include "sockaddr.h"
#include "sys.h"

namespace qs {

namespace {

// Argument checks are a backstop: lib/ validates first, so a failure here is
// a bug in lib/ and is reported as a TypeError, never as an errno.
// These run on every read and write, so they make one raw Node-API call per
// argument (a wrong type shows as that call's failure) instead of a type
// check and a conversion each.
bool ArgInt(const Napi::CallbackInfo& info, size_t i, int* out) {
  double d;
  if (napi_get_value_double(info.Env(), info[i], &d) != napi_ok) {
    Napi::TypeError::New(info.Env(), "qsocket engine: argument " + std::to_string(i) +
                                         " must be a number")
        .ThrowAsJavaScriptException();
    return false;
  }
  // Int32Value() would wrap 2^32 + 5 to 5: a different, open descriptor.
  if (!(d >= INT32_MIN && d <= INT32_MAX) || d != (double)(int32_t)d) {
    Napi::RangeError::New(info.Env(), "qsocket engine: argument " + std::to_string(i) +
                                          " must be a 32-bit integer")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = (int32_t)d;
  return true;
}

// A byte range [off, off+len) of a Uint8Array argument.
bool ArgBytes(const Napi::CallbackInfo& info, size_t i, uint8_t** data, size_t* len,
              bool ranged) {
  napi_typedarray_type type;
  size_t size = 0;
  void* base = nullptr;
  bool is_typed = false;
  napi_value v = info[i];
  if (napi_is_typedarray(info.Env(), v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(info.Env(), v, &type, &size, &base, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    Napi::TypeError::New(info.Env(), "qsocket engine: argument " + std::to_string(i) +
                                         " must be a Uint8Array")
        .ThrowAsJavaScriptException();
    return false;
  }
  if (!ranged) {
    *data = static_cast<uint8_t*>(base);
    *len = size;
    return true;
  }
  int off, n;
  if (!ArgInt(info, i + 1, &off) || !ArgInt(info, i + 2, &n)) return false;
  if (off < 0 || n < 0 || (size_t)off + (size_t)n > size) {
    Napi::RangeError::New(info.Env(), "qsocket engine: byte range out of bounds")
        .ThrowAsJavaScriptException();
    return false;
  }
  *data = static_cast<uint8_t*>(base) + off;
  *len = (size_t)n;
  return true;
}

bool ArgAddr(const Napi::CallbackInfo& info, size_t i, uint8_t** addr) {
  size_t len;
  if (!ArgBytes(info, i, addr, &len, false)) return false;
  if (len < (size_t)kAddrSize) {
    Napi::RangeError::New(info.Env(), "qsocket engine: address buffer too small")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value Num(Napi::Env env, double v) { return Napi::Number::New(env, v); }

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void OnPollClosed(uv_handle_t* h) {
  auto* addon = static_cast<Addon*>(h->data);
  delete reinterpret_cast<uv_poll_t*>(h);
  if (addon != nullptr) addon->PollClosed();
}

}  // namespace

Napi::Function Engine::Define(Napi::Env env) {
  return DefineClass(env, "Engine", {
      InstanceMethod("open", &Engine::Open),
      InstanceMethod("adopt", &Engine::Adopt),
      InstanceMethod("fd", &Engine::Fd),
      InstanceMethod("bind", &Engine::Bind),
      InstanceMethod("connect", &Engine::Connect),
      InstanceMethod("listen", &Engine::Listen),
      InstanceMethod("accept", &Engine::Accept),
      InstanceMethod("socketError", &Engine::SocketError),
      InstanceMethod("read", &Engine::Read),
      InstanceMethod("write", &Engine::Write),
      InstanceMethod("recvFrom", &Engine::RecvFrom),
      InstanceMethod("sendTo", &Engine::SendTo),
      InstanceMethod("recvMany", &Engine::RecvMany),
      InstanceMethod("sendMany", &Engine::SendMany),
      InstanceMethod("shutdown", &Engine::Shutdown),
      InstanceMethod("close", &Engine::Close),
      InstanceMethod("detach", &Engine::Detach),
      InstanceMethod("getOption", &Engine::GetOption),
      InstanceMethod("setOption", &Engine::SetOption),
      InstanceMethod("getOptionBytes", &Engine::GetOptionBytes),
      InstanceMethod("setOptionBytes", &Engine::SetOptionBytes),
      InstanceMethod("localAddress", &Engine::LocalAddress),
      InstanceMethod("peerAddress", &Engine::PeerAddress),
      InstanceMethod("setNotify", &Engine::SetNotify),
      InstanceMethod("ref", &Engine::LoopRef),
      InstanceMethod("unref", &Engine::LoopUnref),
      InstanceMethod("poll", &Engine::Poll),
      InstanceMethod("recvWait", &Engine::RecvWait),
      InstanceMethod("setReadArea", &Engine::SetReadArea),
  });
}

Engine::Engine(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Engine>(info),
      addon_(Addon::From(info.Env())),
      async_(info.Env(), "qsocket:Engine", info.This().As<Napi::Object>()) {
  // Without a callback of its own, the engine uses its environment's shared
  // handler (setNotifyHandler), called with the engine as `this`: lib/'s way,
  // which saves a closure and a reference per socket.
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsFunction()) {
      Napi::TypeError::New(info.Env(), "qsocket engine: onNotify must be a function")
          .ThrowAsJavaScriptException();
      return;
    }
    on_notify_ = Napi::Persistent(info[0].As<Napi::Function>());
  } else if (addon_ == nullptr || addon_->notify_handler.IsEmpty()) {
    Napi::TypeError::New(info.Env(), "qsocket engine: no onNotify and no setNotifyHandler")
        .ThrowAsJavaScriptException();
    return;
  }
  if (addon_ != nullptr) addon_->engines.insert(this);
}

// The finalizer is only a leak net for an engine dropped while open: it
// closes the descriptor and never calls into JS.
Engine::~Engine() {
  CloseFd();
  if (addon_ != nullptr) addon_->engines.erase(this);
}

bool Engine::CheckOpen(Napi::Env env) {
  if (fd_ >= 0) return true;
  Napi::Error::New(env, "qsocket engine: no descriptor").ThrowAsJavaScriptException();
  return false;
}

void Engine::StopPoll() {
  if (poll_ == nullptr) return;
  uv_poll_stop(poll_);
  // uv_close finishes on a later loop turn, when this Engine may be gone:
  // the handle carries only what its close callback needs.
  Addon* waiting = (addon_ != nullptr && addon_->tearing_down) ? addon_ : nullptr;
  if (waiting != nullptr) waiting->closes_pending++;
  poll_->data = waiting;
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnPollClosed);
  poll_ = nullptr;
  mask_ = 0;
  Pin(false);
}

// While notifications are wanted, the JS object stays alive even when the
// user drops every reference to it, as a node:net socket does.
void Engine::Pin(bool on) {
  if (on == pinned_) return;
  // The finalizer may run when the JS object is already gone; the reference
  // is then only released, never used.
  if (on) Ref(); else Unref();
  pinned_ = on;
}

int Engine::CloseFd() {
  area_ = nullptr;  // the reference goes with the engine; no read can use it now
  local_port_ = 0;
  if (fd_ < 0) return 0;
  StopPoll();  // the poll must stop before its descriptor closes (uv poll.rst)
  int fd = fd_;
  fd_ = -1;
  return qs_close(fd);
}

Napi::Value Engine::Open(const Napi::CallbackInfo& info) {
  int domain, type;
  if (!ArgInt(info, 0, &domain) || !ArgInt(info, 1, &type)) return {};
  if (fd_ >= 0) {
    Napi::Error::New(info.Env(), "qsocket engine: already has a descriptor")
        .ThrowAsJavaScriptException();
    return {};
  }
  int fd = qs_socket(domain, type, 0);
  if (fd < 0) return Num(info.Env(), fd);
  fd_ = fd;
  nonblocking_ = true;
  rcvtimeo_ms_ = -2;
  return Num(info.Env(), 0);
}

// describe(fd, out: Int32Array(5)) -> 0 | -errno, without changing the fd:
// out = [SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, connected].
Napi::Value Engine::Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd)) return {};
  if (!info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[1].As<Napi::Int32Array>().ElementLength() < 5) {
    Napi::TypeError::New(env, "qsocket engine: describe needs an Int32Array(5)")
        .ThrowAsJavaScriptException();
    return {};
  }
  int32_t* out = info[1].As<Napi::Int32Array>().Data();
  if (fd < 0) return Num(env, -EBADF);
  struct stat st;
  if (fstat(fd, &st) == -1) return Num(env, -errno);
  if (!S_ISSOCK(st.st_mode)) return Num(env, -ENOTSOCK);
  int v;
  socklen_t len = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1) return Num(env, -errno);
  out[0] = v;
  sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl) == -1) return Num(env, -errno);
  out[1] = ss.ss_family;
#ifdef SO_PROTOCOL
  len = sizeof v;
  out[2] = getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 ? v : 0;
#else
  out[2] = 0;
#endif
  len = sizeof v;
  out[3] = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 ? v : 0;
  sl = sizeof ss;
  out[4] = getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &sl) == 0 ? 1 : 0;
  return Num(env, 0);
}

// Takes ownership of a descriptor made elsewhere. Only O_NONBLOCK changes (as
// in Qt's initialize(fd)); FD_CLOEXEC is left as its owner chose.
Napi::Value Engine::Adopt(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgInt(info, 0, &fd)) return {};
  if (fd_ >= 0) {
    Napi::Error::New(info.Env(), "qsocket engine: already has a descriptor")
        .ThrowAsJavaScriptException();
    return {};
  }
  if (fd < 0) return Num(info.Env(), -EBADF);
  int fl = fcntl(fd, F_GETFL);
  if (fl == -1) return Num(info.Env(), -errno);
  if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
    return Num(info.Env(), -errno);
  int e = set_common_flags(fd);
  if (e < 0) return Num(info.Env(), e);
  fd_ = fd;
  nonblocking_ = true;
  rcvtimeo_ms_ = -2;
  return Num(info.Env(), 0);
}

Napi::Value Engine::Fd(const Napi::CallbackInfo& info) { return Num(info.Env(), fd_); }

Napi::Value Engine::Bind(const Napi::CallbackInfo& info) {
  uint8_t* a;
  if (!ArgAddr(info, 0, &a) || !CheckOpen(info.Env())) return {};
  sockaddr_storage ss;
  socklen_t len;
  int e = addr_decode(a, &ss, &len);
  if (e < 0) return Num(info.Env(), e);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == -1) return Num(info.Env(), -errno);
  return Num(info.Env(), 0);
}

Napi::Value Engine::Connect(const Napi::CallbackInfo& info) {
  uint8_t* a;
  if (!ArgAddr(info, 0, &a) || !CheckOpen(info.Env())) return {};
  sockaddr_storage ss;
  socklen_t len;
  int e = addr_decode(a, &ss, &len);
  if (e < 0) return Num(info.Env(), e);
  return Num(info.Env(), qs_connect(fd_, reinterpret_cast<sockaddr*>(&ss), len));
}

Napi::Value Engine::Listen(const Napi::CallbackInfo& info) {
  int backlog;
  if (!ArgInt(info, 0, &backlog) || !CheckOpen(info.Env())) return {};
  if (listen(fd_, backlog) == -1) return Num(info.Env(), -errno);
  return Num(info.Env(), 0);
}

// accept(peerOut?) -> new fd | -errno; the new fd is non-blocking and
// close-on-exec, and belongs to the caller until an Engine adopts it.
Napi::Value Engine::Accept(const Napi::CallbackInfo& info) {
  if (!CheckOpen(info.Env())) return {};
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = qs_accept(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  if (fd >= 0 && info.Length() > 0 && !info[0].IsUndefined()) {
    uint8_t* a;
    if (!ArgAddr(info, 0, &a)) {
      qs_close(fd);
      return {};
    }
    addr_encode(reinterpret_cast<sockaddr*>(&ss), len, a);
  }
  return Num(info.Env(), fd);
}

// The outcome of a non-blocking connect: 0, or the positive errno SO_ERROR
// holds; -errno if getsockopt itself failed.
Napi::Value Engine::SocketError(const Napi::CallbackInfo& info) {
  if (!CheckOpen(info.Env())) return {};
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &v, &len) == -1) return Num(info.Env(), -errno);
  return Num(info.Env(), v);
}

// read(buf, off, len) -> n | 0 at end of stream | -errno
Napi::Value Engine::Read(const Napi::CallbackInfo& info) {
  uint8_t* p;
  size_t n;
  if (!ArgBytes(info, 0, &p, &n, true) || !CheckOpen(info.Env())) return {};
  return Num(info.Env(), (double)qs_recv(fd_, p, n, 0));
}

// write(buf, off, len) -> bytes accepted (maybe fewer) | -errno
Napi::Value Engine::Write(const Napi::CallbackInfo& info) {
  uint8_t* p;
  size_t n;
  if (!ArgBytes(info, 0, &p, &n, true) || !CheckOpen(info.Env())) return {};
  return Num(info.Env(), (double)qs_send(fd_, p, n));
}

// recvFrom(buf, off, len, addrOut, flags) -> datagram size | -errno. With
// MSG_TRUNC the full size is returned even when it did not fit.
Napi::Value Engine::RecvFrom(const Napi::CallbackInfo& info) {
  uint8_t* p;
  size_t n;
  uint8_t* a;
  int flags;
  if (!ArgBytes(info, 0, &p, &n, true) || !ArgAddr(info, 3, &a) || !ArgInt(info, 4, &flags) ||
      !CheckOpen(info.Env()))
    return {};
  sockaddr_storage ss;
  iovec iov{p, n};
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = sizeof ss;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t r = qs_recvmsg(fd_, &msg, flags);
  if (r >= 0) addr_encode(reinterpret_cast<sockaddr*>(&ss), msg.msg_namelen, a);
  return Num(info.Env(), (double)r);
}

// sendTo(buf, off, len, addr) -> bytes sent | -errno; addr kind 0 = connected.
Napi::Value Engine::SendTo(const Napi::CallbackInfo& info) {
  uint8_t* p;
  size_t n;
  uint8_t* a;
  if (!ArgBytes(info, 0, &p, &n, true) || !ArgAddr(info, 3, &a) || !CheckOpen(info.Env()))
    return {};
  sockaddr_storage ss;
  socklen_t len = 0;
  iovec iov{p, n};
  msghdr msg{};
  if (a[0] != kAddrNone) {
    int e = addr_decode(a, &ss, &len);
    if (e < 0) return Num(info.Env(), e);
    msg.msg_name = &ss;
    msg.msg_namelen = len;
  }
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  return Num(info.Env(), (double)qs_sendmsg(fd_, &msg));
}

namespace {

uint16_t LocalPort(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == -1) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

}  // namespace

// A datagram socket's port never changes once it has one, and it has one by
// the time a datagram arrives: getsockname once, not once per batch.
uint16_t Engine::CachedLocalPort() {
  if (local_port_ == 0) local_port_ = LocalPort(fd_);
  return local_port_;
}

// recvMany(owner) -> datagrams | -errno | NOT_READ when the environment's
// batch arrays (see RecvBatch) are not `owner`'s: the caller registers its
// own and asks again.
Napi::Value Engine::RecvMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int owner;
  if (!ArgInt(info, 0, &owner) || !CheckOpen(env)) return {};
  RecvBatch* batch = addon_ == nullptr ? nullptr : addon_->recv_batch.get();
  if (batch == nullptr || batch->owner() != owner) return Num(env, kNotRead);
  return Num(env, batch->Receive(fd_, CachedLocalPort()));
}

// sendMany(datagrams: Uint8Array[], addrs) -> datagrams sent | -errno: one
// sendmmsg for up to 64; datagram i goes to addrs[i*ADDR_SIZE] (kind 0: the
// connected peer). Fewer than asked means the rest would block or failed.
Napi::Value Engine::SendMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    Napi::TypeError::New(env, "qsocket engine: sendMany needs an array").ThrowAsJavaScriptException();
    return {};
  }
  uint8_t* addrs;
  size_t addrs_len;
  if (!ArgBytes(info, 1, &addrs, &addrs_len, false) || !CheckOpen(env)) return {};
  auto arr = info[0].As<Napi::Array>();
  size_t count = std::min({(size_t)arr.Length(), (size_t)kMaxBatch, addrs_len / kAddrSize});
  if (count == 0) return Num(env, 0);
  sockaddr_storage names[kMaxBatch];
  iovec iov[kMaxBatch];
  msghdr hdrs[kMaxBatch];
  for (size_t i = 0; i < count; i++) {
    Napi::Value v = arr.Get((uint32_t)i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "qsocket engine: datagrams must be Uint8Arrays").ThrowAsJavaScriptException();
      return {};
    }
    auto u8 = v.As<Napi::Uint8Array>();
    iov[i] = {u8.Data(), u8.ByteLength()};
    memset(&hdrs[i], 0, sizeof hdrs[i]);
    const uint8_t* a = addrs + i * kAddrSize;
    if (a[0] != kAddrNone) {
      socklen_t len;
      int e = addr_decode(a, &names[i], &len);
      if (e < 0) {
        if (i == 0) return Num(env, e);
        count = i;
        break;
      }
      hdrs[i].msg_name = &names[i];
      hdrs[i].msg_namelen = len;
    }
    hdrs[i].msg_iov = &iov[i];
    hdrs[i].msg_iovlen = 1;
  }
#if defined(__linux__)
  mmsghdr msgs[kMaxBatch];
  for (size_t i = 0; i < count; i++) msgs[i] = {hdrs[i], 0};
  int n;
  do n = sendmmsg(fd_, msgs, (unsigned)count, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n == -1 && errno == EINTR);
  return Num(env, n == -1 ? -errno : n);
#else
  size_t sent = 0;
  for (; sent < count; sent++) {
    ssize_t r = qs_sendmsg(fd_, &hdrs[sent]);
    if (r < 0) return Num(env, sent == 0 ? (double)r : (double)sent);
  }
  return Num(env, (double)sent);
#endif
}

Napi::Value Engine::Shutdown(const Napi::CallbackInfo& info) {
  int how;
  if (!ArgInt(info, 0, &how) || !CheckOpen(info.Env())) return {};
  if (shutdown(fd_, how) == -1) return Num(info.Env(), -errno);
  return Num(info.Env(), 0);
}

Napi::Value Engine::Close(const Napi::CallbackInfo& info) {
  return Num(info.Env(), CloseFd());
}

// Gives the descriptor back open: polling stops, and this engine forgets it.
Napi::Value Engine::Detach(const Napi::CallbackInfo& info) {
  int fd = fd_;
  if (fd >= 0) {
    StopPoll();
    fd_ = -1;
  }
  area_ = nullptr;
  local_port_ = 0;
  return Num(info.Env(), fd);
}

// getOption(level, name, out: Int32Array) -> 0 | -errno
Napi::Value Engine::GetOption(const Napi::CallbackInfo& info) {
  int level, name;
  if (!ArgInt(info, 0, &level) || !ArgInt(info, 1, &name) || !CheckOpen(info.Env())) return {};
  if (!info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(info.Env(), "qsocket engine: getOption needs an Int32Array")
        .ThrowAsJavaScriptException();
    return {};
  }
  // Some options (IP_MULTICAST_TTL/LOOP on Linux) may answer with one byte.
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd_, level, name, &v, &len) == -1) return Num(info.Env(), -errno);
  if (len == 1) v = *reinterpret_cast<unsigned char*>(&v);
  info[2].As<Napi::Int32Array>()[0] = v;
  return Num(info.Env(), 0);
}

Napi::Value Engine::SetOption(const Napi::CallbackInfo& info) {
  int level, name, value;
  if (!ArgInt(info, 0, &level) || !ArgInt(info, 1, &name) || !ArgInt(info, 2, &value) ||
      !CheckOpen(info.Env()))
    return {};
  if (setsockopt(fd_, level, name, &value, sizeof value) == -1) return Num(info.Env(), -errno);
  return Num(info.Env(), 0);
}

// getOptionBytes(level, name, buf) -> length written | -errno
Napi::Value Engine::GetOptionBytes(const Napi::CallbackInfo& info) {
  int level, name;
  uint8_t* p;
  size_t n;
  if (!ArgInt(info, 0, &level) || !ArgInt(info, 1, &name) || !ArgBytes(info, 2, &p, &n, false) ||
      !CheckOpen(info.Env()))
    return {};
  socklen_t len = (socklen_t)n;
  if (getsockopt(fd_, level, name, p, &len) == -1) return Num(info.Env(), -errno);
  return Num(info.Env(), len);
}

Napi::Value Engine::SetOptionBytes(const Napi::CallbackInfo& info) {
  int level, name;
  uint8_t* p;
  size_t n;
  if (!ArgInt(info, 0, &level) || !ArgInt(info, 1, &name) || !ArgBytes(info, 2, &p, &n, false) ||
      !CheckOpen(info.Env()))
    return {};
  if (setsockopt(fd_, level, name, p, (socklen_t)n) == -1) return Num(info.Env(), -errno);
  return Num(info.Env(), 0);
}

// getsockname/getpeername into the neutral layout -> 0 | -errno.
Napi::Value Engine::Endpoint(const Napi::CallbackInfo& info,
                             int (*get)(int, sockaddr*, socklen_t*)) {
  uint8_t* a;
  if (!ArgAddr(info, 0, &a) || !CheckOpen(info.Env())) return {};
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (get(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == -1) return Num(info.Env(), -errno);
  addr_encode(reinterpret_cast<sockaddr*>(&ss), len, a);
  return Num(info.Env(), 0);
}

Napi::Value Engine::LocalAddress(const Napi::CallbackInfo& info) { return Endpoint(info, getsockname); }

Napi::Value Engine::PeerAddress(const Napi::CallbackInfo& info) { return Endpoint(info, getpeername); }

// setNotify(mask) -> 0 | -errno: which readiness events reach onNotify; 0
// stops the poll (and lets the loop exit if nothing else holds it).
Napi::Value Engine::SetNotify(const Napi::CallbackInfo& info) {
  int mask;
  if (!ArgInt(info, 0, &mask) || !CheckOpen(info.Env())) return {};
  mask &= UV_READABLE | UV_WRITABLE | UV_DISCONNECT;
  if (mask == mask_) return Num(info.Env(), 0);
  if (mask == 0) {
    uv_poll_stop(poll_);
    mask_ = 0;
    Pin(false);
    return Num(info.Env(), 0);
  }
  if (poll_ == nullptr) {
    if (addon_ == nullptr) return Num(info.Env(), -EBADF);
    poll_ = new uv_poll_t;
    int e = uv_poll_init_socket(addon_->loop, poll_, fd_);
    if (e < 0) {
      delete poll_;
      poll_ = nullptr;
      return Num(info.Env(), e);
    }
    poll_->data = this;
    if (unrefed_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
  int e = uv_poll_start(poll_, mask, OnPoll);
  if (e < 0) return Num(info.Env(), e);
  mask_ = mask;
  Pin(true);
  return Num(info.Env(), 0);
}

Napi::Value Engine::LoopRef(const Napi::CallbackInfo& info) {
  unrefed_ = false;
  if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value Engine::LoopUnref(const Napi::CallbackInfo& info) {
  unrefed_ = true;
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

// poll(events, timeoutMs, spinUs = 0) -> readiness bits | 0 on time-out |
// -errno. Blocks the calling thread; -1 waits forever. EINTR restarts with
// the time left. With spinUs, it first spins on a zero-timeout poll for that
// long, so a reply that is a few microseconds away is seen without the cost
// of sleeping and being woken (the busy-poll mode of latency-critical loops).
Napi::Value Engine::Poll(const Napi::CallbackInfo& info) {
  int events, timeout, spin = 0;
  if (!ArgInt(info, 0, &events) || !ArgInt(info, 1, &timeout) || !CheckOpen(info.Env())) return {};
  if (info.Length() > 2 && !ArgInt(info, 2, &spin)) return {};
  pollfd p{fd_, 0, 0};
  if (events & UV_READABLE) p.events |= POLLIN;
  if (events & UV_WRITABLE) p.events |= POLLOUT;
#ifdef POLLRDHUP
  if (events & UV_DISCONNECT) p.events |= POLLRDHUP;
#endif
  int64_t deadline = timeout < 0 ? -1 : NowMs() + timeout;
  int r = 0;
  if (spin > 0) {
    timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    const int64_t budget_ns = (int64_t)spin * 1000;
    for (;;) {
      r = poll(&p, 1, 0);
      if (r > 0 || (r < 0 && errno != EINTR)) break;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t spent = (now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec);
      if (spent >= budget_ns || (deadline >= 0 && NowMs() >= deadline)) break;
    }
    if (r < 0) r = 0;  // EINTR at the very end of the spin: sleep below
  }
  if (r == 0) {
    for (;;) {
      int wait = deadline < 0 ? -1 : (int)std::max<int64_t>(0, deadline - NowMs());
      r = poll(&p, 1, wait);
      if (r >= 0 || errno != EINTR) break;
    }
  }
  if (r < 0) return Num(info.Env(), -errno);
  if (r == 0) return Num(info.Env(), 0);
  int out = 0;
  if (p.revents & POLLIN) out |= UV_READABLE;
  if (p.revents & POLLOUT) out |= UV_WRITABLE;
  if (p.revents & POLLHUP) out |= UV_DISCONNECT;
#ifdef POLLRDHUP
  if (p.revents & POLLRDHUP) out |= UV_DISCONNECT;
#endif
  if (p.revents & (POLLERR | POLLNVAL)) out |= 16;
  return Num(info.Env(), out);
}

// recvWait(buf, off, len, timeoutMs, spinUs) -> bytes | 0 at end of stream |
// -EAGAIN on time-out | -errno. The blocking read of waitForReadyRead in as
// few system calls as a blocking C client makes: spin (optionally) with
// MSG_DONTWAIT, then one recv that sleeps in the kernel until data or
// SO_RCVTIMEO. For that the descriptor is switched to blocking once and left
// so: every other transfer of ours passes MSG_DONTWAIT, so the flag no longer
// matters to them, and flipping it back and forth would cost two fcntl calls
// per wait.
Napi::Value Engine::RecvWait(const Napi::CallbackInfo& info) {
  uint8_t* p;
  size_t n;
  int timeout, spin;
  if (!ArgBytes(info, 0, &p, &n, true) || !ArgInt(info, 3, &timeout) || !ArgInt(info, 4, &spin) ||
      !CheckOpen(info.Env()))
    return {};
  Napi::Env env = info.Env();
  const int64_t deadline = timeout < 0 ? -1 : NowMs() + timeout;
  ssize_t r;
  if (spin > 0 || timeout == 0) {
    timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    const int64_t budget_ns = (int64_t)spin * 1000;
    for (;;) {
      r = qs_recv(fd_, p, n, 0);
      if (r != -EAGAIN && r != -EWOULDBLOCK) return Num(env, (double)r);
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t spent = (now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec);
      if (spent >= budget_ns || (deadline >= 0 && NowMs() >= deadline)) break;
    }
  }
  if (timeout == 0) return Num(env, -EAGAIN);
  if (nonblocking_) {
    int fl = fcntl(fd_, F_GETFL);
    if (fl == -1 || fcntl(fd_, F_SETFL, fl & ~O_NONBLOCK) == -1) return Num(env, -errno);
    nonblocking_ = false;
  }
  for (;;) {
    int left = deadline < 0 ? 0 : (int)std::max<int64_t>(1, deadline - NowMs());
    if (deadline >= 0 && NowMs() >= deadline) return Num(env, -EAGAIN);
    if (left != rcvtimeo_ms_) {
      timeval tv{left / 1000, (left % 1000) * 1000};  // 0 means no limit
      if (setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1) return Num(env, -errno);
      rcvtimeo_ms_ = left;
    }
    r = recv(fd_, p, n, 0);
    if (r >= 0) return Num(env, (double)r);
    if (errno != EINTR) return Num(env, -errno);
  }
}

// setReadArea(area: Uint8Array | null) -> 0. Lets a readiness event carry
// its first read: the area starts with two int32 words that lib/ keeps up to
// date, [offset, max], and when the descriptor becomes readable while max > 0,
// OnPoll receives up to min(max, area.length - offset) bytes at offset before
// it calls JS, and hands over the result. That makes one crossing per event
// instead of two (the callback, then a read). Where the bytes go and how many
// is decided in lib/; a stale area is disarmed there (max = 0).
Napi::Value Engine::SetReadArea(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsNull() || info[0].IsUndefined()) {
    area_ = nullptr;
    area_len_ = 0;
    area_ref_.Reset();
    return Num(env, 0);
  }
  uint8_t* p;
  size_t len;
  if (!ArgBytes(info, 0, &p, &len, false)) return {};
  if (len < 8 || reinterpret_cast<uintptr_t>(p) % alignof(int32_t) != 0) {
    Napi::RangeError::New(env, "qsocket engine: a read area needs 8 aligned header bytes")
        .ThrowAsJavaScriptException();
    return {};
  }
  area_ref_ = Napi::Persistent(info[0].As<Napi::Uint8Array>());
  area_ = p;
  area_len_ = len;
  return Num(env, 0);
}

// The read that OnPoll makes on lib/'s behalf → bytes | 0 at end of stream |
// -errno | kNotRead when the area is not armed or the event is not a read.
int32_t Engine::ReadAhead(int events) {
  if (area_ == nullptr || fd_ < 0 || !(mask_ & UV_READABLE) ||
      !(events & (UV_READABLE | UV_DISCONNECT)))
    return kNotRead;
  int32_t off, max;
  std::memcpy(&off, area_, sizeof off);
  std::memcpy(&max, area_ + 4, sizeof max);
  if (max <= 0 || off < 8 || (size_t)off >= area_len_) return kNotRead;
  size_t n = std::min<size_t>((size_t)max, area_len_ - (size_t)off);
  return (int32_t)qs_recv(fd_, area_ + off, n, 0);
}

void Engine::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Engine*>(handle->data);
  if (self == nullptr || self->addon_ == nullptr || self->addon_->tearing_down) return;
  if (status < 0) {
    // libuv reports POLLERR as UV_EBADF and has already stopped the handle;
    // the socket's own error (SO_ERROR, or the next recv) says what it was.
    self->mask_ = 0;
    self->Pin(false);
  }
  // Raw Node-API calls, each checked: in a worker being terminated, JS can
  // no longer run, and node-addon-api's wrappers would turn the failure into
  // a fatal error. A failed call here just means nobody is listening.
  napi_env env = self->Env();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  const int32_t ahead = status < 0 ? kNotRead : self->ReadAhead(events);
  napi_value argv[3], fn, recv, result;
  if (napi_create_int32(env, events, &argv[0]) == napi_ok &&
      napi_create_int32(env, status, &argv[1]) == napi_ok &&
      napi_create_int32(env, ahead, &argv[2]) == napi_ok &&
      napi_get_reference_value(env, self->on_notify_.IsEmpty() ? napi_ref(self->addon_->notify_handler) : napi_ref(self->on_notify_), &fn) == napi_ok && fn != nullptr &&
      napi_get_reference_value(env, napi_ref(*self), &recv) == napi_ok && recv != nullptr) {
    // MakeCallback, so that the microtasks a slot queues (the write flush)
    // run before control returns to the loop. lib/ catches every exception
    // of its own; one that still escapes (from a tick or microtask a user
    // queued, say) goes to process's uncaughtException as node's own
    // callbacks' do, unless the environment is going away (a terminated
    // worker), when nobody is left to tell.
    if (napi_make_callback(env, napi_async_context(self->async_), recv, fn, 3, argv, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      napi_value error;
      if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok &&
          self->addon_ != nullptr && !self->addon_->tearing_down) {
        napi_fatal_exception(env, error);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace qs
