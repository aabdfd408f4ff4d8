// One Engine owns one socket descriptor and, while notifications are wanted,
// one uv_poll_t watching it. Every method is one system call that returns its
// result or -errno; what the results mean is decided in TypeScript.
#pragma once

#include <napi.h>
#include <uv.h>

#include <climits>
#include <cstdint>

namespace qs {

class Addon;

// What OnPoll passes when it made no read for lib/ (see SetReadArea).
constexpr int32_t kNotRead = INT32_MIN;

class Engine : public Napi::ObjectWrap<Engine> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Describe(const Napi::CallbackInfo& info);

  explicit Engine(const Napi::CallbackInfo& info);
  ~Engine() override;

  bool IsOpen() const { return fd_ >= 0; }
  // Stops the poll and closes the descriptor, once. Never calls into JS, so
  // the finalizer and the environment teardown can use it too.
  int CloseFd();
  // Detaches from the environment at teardown: after this, no callback runs.
  void Orphan() { addon_ = nullptr; }

 private:
  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Adopt(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);
  Napi::Value SocketError(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value RecvFrom(const Napi::CallbackInfo& info);
  Napi::Value SendTo(const Napi::CallbackInfo& info);
  Napi::Value RecvMany(const Napi::CallbackInfo& info);
  Napi::Value SendMany(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value GetOption(const Napi::CallbackInfo& info);
  Napi::Value SetOption(const Napi::CallbackInfo& info);
  Napi::Value GetOptionBytes(const Napi::CallbackInfo& info);
  Napi::Value SetOptionBytes(const Napi::CallbackInfo& info);
  Napi::Value LocalAddress(const Napi::CallbackInfo& info);
  Napi::Value PeerAddress(const Napi::CallbackInfo& info);
  Napi::Value Endpoint(const Napi::CallbackInfo& info, int (*get)(int, sockaddr*, socklen_t*));
  Napi::Value SetNotify(const Napi::CallbackInfo& info);
  Napi::Value LoopRef(const Napi::CallbackInfo& info);
  Napi::Value LoopUnref(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value RecvWait(const Napi::CallbackInfo& info);
  Napi::Value SetReadArea(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  int32_t ReadAhead(int events);
  uint16_t CachedLocalPort();
  void StopPoll();
  void Pin(bool on);
  bool CheckOpen(Napi::Env env);

  Addon* addon_;
  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;  // heap: uv_close completes after we may be gone
  int mask_ = 0;
  bool unrefed_ = false;
  uint16_t local_port_ = 0;  // see CachedLocalPort
  bool pinned_ = false;
  // For RecvWait: whether the descriptor is still O_NONBLOCK, and the
  // SO_RCVTIMEO last set (-2: never).
  bool nonblocking_ = true;
  int rcvtimeo_ms_ = -2;
  // The read area (see SetReadArea): its bytes and the reference that keeps
  // them alive; null when none is set.
  uint8_t* area_ = nullptr;
  size_t area_len_ = 0;
  Napi::Reference<Napi::Uint8Array> area_ref_;
  Napi::FunctionReference on_notify_;
  Napi::AsyncContext async_;
};

}  // namespace qs
