// A synchronous host lookup with a deadline, for the blocking waits
// (waitForConnected from HostLookupState).
#pragma once

#include <napi.h>

namespace qs {

// resolve(name, family 0|4|6, timeoutMs) -> { status: 'ok' | 'timeout' | 'error',
// addresses: string[], message }. -1 waits forever.
Napi::Value Resolve(const Napi::CallbackInfo& info);

}  // namespace qs
