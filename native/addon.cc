#include "addon.h"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "engine.h"
#include "errno_list.h"
#include "fdpass.h"
#include "resolve.h"
#include "sockaddr.h"

namespace qs {

namespace {

void SetInt(Napi::Object obj, const char* name, int value) {
  obj.Set(name, Napi::Number::New(obj.Env(), value));
}

Napi::Object Errnos(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
#define QS_ERRNO_ENTRY(name) SetInt(o, #name, name);
  QS_ERRNO_MAP(QS_ERRNO_ENTRY)
#undef QS_ERRNO_ENTRY
  return o;
}

// Constants by their C names; an option the OS lacks is simply absent, and TS
// reports that as unsupported.
Napi::Object Constants(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
#define C(name) SetInt(o, #name, name);
  C(AF_INET) C(AF_INET6) C(AF_UNIX) C(AF_UNSPEC)
  C(SOCK_STREAM) C(SOCK_DGRAM) C(SOCK_SEQPACKET)
  C(SOL_SOCKET) C(IPPROTO_IP) C(IPPROTO_IPV6) C(IPPROTO_TCP) C(IPPROTO_UDP)
  C(SHUT_RD) C(SHUT_WR) C(SHUT_RDWR)
  C(MSG_PEEK) C(MSG_TRUNC) C(MSG_DONTWAIT)
  C(SO_REUSEADDR) C(SO_KEEPALIVE) C(SO_SNDBUF) C(SO_RCVBUF) C(SO_BROADCAST)
  C(SO_LINGER) C(SO_ERROR) C(SO_TYPE) C(SO_ACCEPTCONN) C(SO_RCVLOWAT) C(SO_SNDLOWAT)
  C(TCP_NODELAY)
  C(IP_TOS) C(IP_TTL) C(IP_MULTICAST_TTL) C(IP_MULTICAST_LOOP) C(IP_MULTICAST_IF)
  C(IP_ADD_MEMBERSHIP) C(IP_DROP_MEMBERSHIP)
  C(IPV6_V6ONLY) C(IPV6_MULTICAST_HOPS) C(IPV6_MULTICAST_LOOP) C(IPV6_MULTICAST_IF)
  C(IPV6_UNICAST_HOPS) C(IPV6_JOIN_GROUP) C(IPV6_LEAVE_GROUP)
#ifdef IP_PKTINFO
  C(IP_PKTINFO) C(IP_RECVTTL)
#endif
#ifdef SO_BINDTODEVICE
  C(SO_BINDTODEVICE)
#endif
#ifdef SO_MARK
  C(SO_MARK)
#endif
#ifdef SO_TIMESTAMPNS
  C(SO_TIMESTAMPNS)
#endif
#ifdef IP_FREEBIND
  C(IP_FREEBIND)
#endif
#ifdef SO_INCOMING_CPU
  C(SO_INCOMING_CPU)
#endif

#ifdef IPV6_RECVPKTINFO
  C(IPV6_RECVPKTINFO) C(IPV6_RECVHOPLIMIT)
#endif
#ifdef IPV6_TCLASS
  C(IPV6_TCLASS)
#endif
#ifdef SO_REUSEPORT
  C(SO_REUSEPORT)
#endif
#ifdef SO_DOMAIN
  C(SO_DOMAIN) C(SO_PROTOCOL)
#endif
#ifdef SO_PRIORITY
  C(SO_PRIORITY)
#endif
#ifdef SO_BUSY_POLL
  C(SO_BUSY_POLL)
#endif
#ifdef TCP_KEEPIDLE
  C(TCP_KEEPIDLE) C(TCP_KEEPINTVL) C(TCP_KEEPCNT)
#endif
#ifdef TCP_QUICKACK
  C(TCP_QUICKACK) C(TCP_USER_TIMEOUT) C(TCP_CORK) C(TCP_NOTSENT_LOWAT)
#endif
#ifdef IP_MTU
  C(IP_MTU) C(IPV6_MTU) C(IP_MTU_DISCOVER) C(IPV6_MTU_DISCOVER)
#endif
#undef C
  // Readiness bits, as passed to setNotify and reported to onNotify/poll.
  SetInt(o, "READABLE", UV_READABLE);
  SetInt(o, "WRITABLE", UV_WRITABLE);
  SetInt(o, "DISCONNECT", UV_DISCONNECT);
  SetInt(o, "ERROR", 16);
  SetInt(o, "ADDR_SIZE", kAddrSize);
  SetInt(o, "NOT_READ", kNotRead);
  return o;
}

}  // namespace

Addon::Addon(Napi::Env env, Napi::Object exports) {
  napi_get_uv_event_loop(env, &loop);
  DefineAddon(exports, {
      InstanceMethod("liveEngines", &Addon::LiveEngines),
      InstanceMethod("strerror", &Addon::StrError),
      InstanceMethod("ifNameToIndex", &Addon::IfNameToIndex),
      InstanceMethod("ifIndexToName", &Addon::IfIndexToName),
      InstanceMethod("setNotifyHandler", &Addon::SetNotifyHandler),
  });
  exports.Set("Engine", Engine::Define(env));
  exports.Set("describe", Napi::Function::New(env, Engine::Describe, "describe"));
  exports.Set("resolve", Napi::Function::New(env, Resolve, "resolve"));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair, "socketpair"));
  exports.Set("sendFds", Napi::Function::New(env, SendFds, "sendFds"));
  exports.Set("recvFds", Napi::Function::New(env, RecvFds, "recvFds"));
  exports.Set("notifySocket", Napi::Function::New(env, NotifySocket, "notifySocket"));
  exports.Set("cloexec", Napi::Function::New(env, Cloexec, "cloexec"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("setRecvArrays", Napi::Function::New(env, RecvBatch::Register, "setRecvArrays"));
  exports.Set("errno", Errnos(env));
  exports.Set("constants", Constants(env));
  // Asynchronous, because closing a uv_poll_t completes on a later loop turn;
  // the environment (a worker, say) waits for it before freeing its loop.
  napi_add_async_cleanup_hook(env, Teardown, this, &cleanup_);
}

// setNotifyHandler(fn): the readiness callback of every Engine made without
// one, called with that Engine as `this` and (events, status, ahead).
Napi::Value Addon::SetNotifyHandler(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    Napi::TypeError::New(info.Env(), "qsocket: setNotifyHandler needs a function").ThrowAsJavaScriptException();
    return {};
  }
  notify_handler = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

void Addon::Teardown(napi_async_cleanup_hook_handle, void* arg) {
  auto* self = static_cast<Addon*>(arg);
  self->tearing_down = true;
  self->closes_pending = 1;  // held until the loop below is done
  std::vector<Engine*> live(self->engines.begin(), self->engines.end());
  for (Engine* e : live) e->CloseFd();
  for (Engine* e : live) e->Orphan();
  self->engines.clear();
  self->recv_batch.reset();  // its references go while the environment can still take them
  self->notify_handler.Reset();
  self->PollClosed();
}

void Addon::PollClosed() {
  if (--closes_pending == 0 && cleanup_ != nullptr) {
    napi_remove_async_cleanup_hook(cleanup_);
    cleanup_ = nullptr;
  }
}

Napi::Value Addon::LiveEngines(const Napi::CallbackInfo& info) {
  int n = 0;
  for (Engine* e : engines) n += e->IsOpen();
  return Napi::Number::New(info.Env(), n);
}

Napi::Value Addon::StrError(const Napi::CallbackInfo& info) {
  int err = info[0].As<Napi::Number>().Int32Value();
  return Napi::String::New(info.Env(), strerror(err < 0 ? -err : err));
}

Napi::Value Addon::IfNameToIndex(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) return Napi::Number::New(info.Env(), 0);
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Number::New(info.Env(), if_nametoindex(name.c_str()));
}

Napi::Value Addon::IfIndexToName(const Napi::CallbackInfo& info) {
  char buf[IF_NAMESIZE];
  uint32_t index = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  const char* name = index != 0 ? if_indextoname(index, buf) : nullptr;
  return Napi::String::New(info.Env(), name != nullptr ? name : "");
}

}  // namespace qs

using QsocketAddon = qs::Addon;
NODE_API_ADDON(QsocketAddon)
