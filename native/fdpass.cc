#include "fdpass.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sockaddr.h"
#include "sys.h"

namespace qs {

namespace {

// Linux's SCM_MAX_FD is 253; a few hundred bytes of control space is plenty.
constexpr int kMaxFds = 64;

bool IsInt32Array(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
}

bool IsUint8Array(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

Napi::Value Misuse(Napi::Env env, const char* what) {
  Napi::TypeError::New(env, std::string("qsocket: ") + what).ThrowAsJavaScriptException();
  return {};
}

// Fills msg's control area with SCM_RIGHTS for fds[0..n).
void PutRights(msghdr* msg, char* control, size_t space, const int32_t* fds, size_t n) {
  if (n == 0) return;
  msg->msg_control = control;
  msg->msg_controllen = space;
  cmsghdr* c = CMSG_FIRSTHDR(msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  msg->msg_controllen = CMSG_SPACE(sizeof(int) * n);
}

}  // namespace

Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int type = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : SOCK_STREAM;
  int sv[2];
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
    return Napi::Number::New(env, -errno);
#else
  if (socketpair(AF_UNIX, type, 0, sv) == -1) return Napi::Number::New(env, -errno);
  set_nonblock_cloexec(sv[0]);
  set_nonblock_cloexec(sv[1]);
#endif
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, sv[0]);
  out.Set(1u, sv[1]);
  return out;
}

Napi::Value SendFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !IsUint8Array(info[1]) || !IsInt32Array(info[2]))
    return Misuse(env, "sendFds(fd, data: Uint8Array, fds: Int32Array)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto data = info[1].As<Napi::Uint8Array>();
  auto fds = info[2].As<Napi::Int32Array>();
  if (fds.ElementLength() > (size_t)kMaxFds) {
    Napi::RangeError::New(env, "qsocket: at most 64 descriptors per message").ThrowAsJavaScriptException();
    return {};
  }
  // At least one byte of data: a message of only ancillary data is not
  // delivered on a stream socket.
  uint8_t zero = 0;
  iovec iov{data.ByteLength() ? data.Data() : &zero, data.ByteLength() ? data.ByteLength() : 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  PutRights(&msg, control, sizeof control, fds.Data(), fds.ElementLength());
  return Napi::Number::New(env, (double)qs_sendmsg(fd, &msg));
}

Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !IsUint8Array(info[1]) || !IsInt32Array(info[2]))
    return Misuse(env, "recvFds(fd, buf: Uint8Array, fdsOut: Int32Array)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto buf = info[1].As<Napi::Uint8Array>();
  auto out = info[2].As<Napi::Int32Array>();
  if (out.ElementLength() < 1) return Misuse(env, "recvFds: fdsOut needs room for the count");
  iovec iov{buf.Data(), buf.ByteLength()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  int flags = 0;
#ifdef MSG_CMSG_CLOEXEC
  flags |= MSG_CMSG_CLOEXEC;
#endif
  ssize_t n = qs_recvmsg(fd, &msg, flags);
  out[0] = 0;
  if (n < 0) return Napi::Number::New(env, (double)n);
  size_t room = out.ElementLength() - 1;
  size_t count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* got = reinterpret_cast<int*>(CMSG_DATA(c));
    for (size_t i = 0; i < k; i++) {
      int r;
      memcpy(&r, got + i, sizeof r);
      // Descriptors we cannot hand back would leak: close them here.
      if (count < room) out[1 + count++] = r;
      else qs_close(r);
    }
  }
  out[0] = (int32_t)count;
  return Napi::Number::New(env, (double)n);
}

Napi::Value NotifySocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsUint8Array(info[0]) || !IsUint8Array(info[1]) || !IsInt32Array(info[2]))
    return Misuse(env, "notifySocket(addr: Uint8Array, data: Uint8Array, fds: Int32Array)");
  auto addr = info[0].As<Napi::Uint8Array>();
  auto data = info[1].As<Napi::Uint8Array>();
  auto fds = info[2].As<Napi::Int32Array>();
  if (addr.ByteLength() < (size_t)kAddrSize) return Misuse(env, "notifySocket: address buffer too small");
  if (fds.ElementLength() > (size_t)kMaxFds) {
    Napi::RangeError::New(env, "qsocket: at most 64 descriptors per message").ThrowAsJavaScriptException();
    return {};
  }
  sockaddr_storage ss;
  socklen_t len;
  int e = addr_decode(addr.Data(), &ss, &len);
  if (e < 0) return Napi::Number::New(env, e);
  int s = qs_socket(AF_UNIX, SOCK_DGRAM, 0);
  if (s < 0) return Napi::Number::New(env, s);
  iovec iov{data.Data(), data.ByteLength()};
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  PutRights(&msg, control, sizeof control, fds.Data(), fds.ElementLength());
  ssize_t r = qs_sendmsg(s, &msg);
  qs_close(s);
  return Napi::Number::New(env, r < 0 ? (double)r : 0);
}

Napi::Value Cloexec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) return Misuse(env, "cloexec(fd, set)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  int set = info[1].As<Napi::Number>().Int32Value();
  int fl = fcntl(fd, F_GETFD);
  if (fl == -1) return Napi::Number::New(env, -errno);
  if (set >= 0) {
    int want = set ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
    if (want != fl && fcntl(fd, F_SETFD, want) == -1) return Napi::Number::New(env, -errno);
    fl = want;
  }
  return Napi::Number::New(env, (fl & FD_CLOEXEC) ? 1 : 0);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return Misuse(env, "closeFd(fd)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd < 0) return Napi::Number::New(env, -EBADF);
  return Napi::Number::New(env, qs_close(fd));
}

}  // namespace qs
