// FdPoller: watch a file descriptor for readability on the libuv event loop
// and call back into JavaScript.
//
// Used by Xsk (AF_XDP socket fd) and RingBuffer (libbpf epoll fd). The poll
// is level-triggered: JS must drain the source in its callback, otherwise it
// is called again on the next loop iteration (there is no busy loop as long
// as the source is drained). While active, the handle keeps the event loop
// alive and a strong reference keeps the owning JS object from being
// collected; Stop() releases both.
#pragma once

#include <napi.h>
#include <uv.h>

#include <functional>
#include <initializer_list>
#include <memory>

namespace xdpfw {

// The registered JS callback, captured for one event. Calling it works even
// if the handler stopped the poller first.
class PollCallback {
 public:
  PollCallback(Napi::Function fn, Napi::Object recv, napi_async_context ctx)
      : fn_(fn), recv_(recv), ctx_(ctx) {}
  // MakeCallback: runs like any libuv-driven callback (async hooks,
  // microtask checkpoint afterwards).
  void operator()(const std::initializer_list<napi_value>& args) const {
    fn_.MakeCallback(recv_, args, ctx_);
  }

 private:
  Napi::Function fn_;
  Napi::Object recv_;
  napi_async_context ctx_;
};

class FdPoller {
 public:
  // Called on each readiness event with the libuv status (< 0: the poll
  // failed, e.g. POLLERR on the socket). Runs inside a HandleScope; a thrown
  // Napi::Error (including one thrown by the JS callback) is reported as an
  // uncaught exception.
  using Handler = std::function<void(Napi::Env env, int status, const PollCallback& cb)>;

  FdPoller() = default;
  ~FdPoller();
  FdPoller(const FdPoller&) = delete;
  FdPoller& operator=(const FdPoller&) = delete;

  // Start watching `fd`; replaces any previous watch. `owner` is the JS
  // object the callback belongs to (its `this` and async resource).
  void Start(Napi::Env env, const char* op, int fd, Napi::Object owner,
             Napi::Function callback, Handler handler);
  void Stop();
  bool Active() const { return handle_ != nullptr; }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int events);

  uv_poll_t* handle_ = nullptr;  // heap-allocated, freed in the close callback
  Napi::FunctionReference callback_;
  Napi::ObjectReference owner_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  Handler handler_;
};

}  // namespace xdpfw
