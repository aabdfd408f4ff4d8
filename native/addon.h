// Per-environment state: each main thread or worker that loads the addon gets
// its own Addon, so nothing here is static (the addon is context-aware).
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <unordered_set>

#include "recv_batch.h"

namespace qs {

class Engine;

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);

  static Addon* From(Napi::Env env) { return env.GetInstanceData<Addon>(); }

  uv_loop_t* loop = nullptr;
  std::unordered_set<Engine*> engines;
  std::unique_ptr<RecvBatch> recv_batch;  // set by setRecvArrays
  Napi::FunctionReference notify_handler;  // set by setNotifyHandler

  // Called by a poll handle's close callback during teardown.
  void PollClosed();
  bool tearing_down = false;
  int closes_pending = 0;

 private:
  Napi::Value LiveEngines(const Napi::CallbackInfo& info);
  Napi::Value StrError(const Napi::CallbackInfo& info);
  Napi::Value IfNameToIndex(const Napi::CallbackInfo& info);
  Napi::Value IfIndexToName(const Napi::CallbackInfo& info);
  Napi::Value SetNotifyHandler(const Napi::CallbackInfo& info);
  static void Teardown(napi_async_cleanup_hook_handle handle, void* arg);

  napi_async_cleanup_hook_handle cleanup_ = nullptr;
};

}  // namespace qs
