#include "resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace qs {

namespace {

struct Job {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int error = 0;
  std::vector<std::string> addresses;
};

void Run(std::shared_ptr<Job> job, std::string name, int family) {
  addrinfo hints{};
  hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  std::vector<std::string> out;
  if (rc == 0) {
    for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
      char buf[INET6_ADDRSTRLEN];
      const void* src = p->ai_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr);
      if ((p->ai_family == AF_INET || p->ai_family == AF_INET6) &&
          inet_ntop(p->ai_family, src, buf, sizeof buf) != nullptr)
        out.emplace_back(buf);
    }
    freeaddrinfo(res);
  }
  std::lock_guard<std::mutex> lock(job->mu);
  job->error = rc;
  job->addresses = std::move(out);
  job->done = true;
  job->cv.notify_all();
}

}  // namespace

Napi::Value Resolve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "qsocket resolve: (name, family, timeoutMs)").ThrowAsJavaScriptException();
    return {};
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int family = info[1].As<Napi::Number>().Int32Value();
  double timeout = info[2].As<Napi::Number>().DoubleValue();

  // getaddrinfo cannot be interrupted, so it runs on a thread of its own and
  // this call waits only as long as it was given. A lookup that outlives the
  // wait finishes in the background and its result is dropped.
  auto job = std::make_shared<Job>();
  std::thread(Run, job, name, family).detach();
  std::unique_lock<std::mutex> lock(job->mu);
  if (timeout < 0) {
    job->cv.wait(lock, [&] { return job->done; });
  } else {
    job->cv.wait_for(lock, std::chrono::duration<double, std::milli>(timeout), [&] { return job->done; });
  }

  Napi::Object result = Napi::Object::New(env);
  Napi::Array list = Napi::Array::New(env);
  if (!job->done) {
    result.Set("status", "timeout");
    result.Set("message", "host lookup timed out");
  } else if (job->error != 0) {
    result.Set("status", "error");
    result.Set("message", gai_strerror(job->error));
  } else {
    result.Set("status", "ok");
    result.Set("message", "");
    for (size_t i = 0; i < job->addresses.size(); i++) list.Set(i, job->addresses[i]);
  }
  result.Set("addresses", list);
  return result;
}

}  // namespace qs
