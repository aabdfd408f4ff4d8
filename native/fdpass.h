// Descriptor passing and the other calls on bare descriptors that the
// systemd and SCM_RIGHTS features need. Each is one system call (or one
// short sequence) returning a result or -errno.
#pragma once

#include <napi.h>

namespace qs {

// socketpair(AF_UNIX, type | NONBLOCK | CLOEXEC) -> [fd, fd] | -errno
Napi::Value SocketPair(const Napi::CallbackInfo& info);
// sendFds(fd, data: Uint8Array, fds: Int32Array) -> bytes | -errno (one sendmsg with SCM_RIGHTS)
Napi::Value SendFds(const Napi::CallbackInfo& info);
// recvFds(fd, buf: Uint8Array, fdsOut: Int32Array) -> bytes | -errno; fdsOut[0] = count,
// fdsOut[1..] = the received descriptors (close-on-exec; owned by the caller)
Napi::Value RecvFds(const Napi::CallbackInfo& info);
// notifySocket(addr: Uint8Array (neutral UNIX address), data, fds: Int32Array) -> 0 | -errno:
// one datagram to an AF_UNIX datagram socket, as sd_notify and sd_pid_notify_with_fds do.
Napi::Value NotifySocket(const Napi::CallbackInfo& info);
// cloexec(fd, set: -1 query | 0 clear | 1 set) -> 0/1 | -errno
Napi::Value Cloexec(const Napi::CallbackInfo& info);
// closeFd(fd) -> 0 | -errno: for descriptors the caller received and never adopted.
Napi::Value CloseFd(const Napi::CallbackInfo& info);

}  // namespace qs
