#include "poller.h"

#include "errors.h"

namespace xdpfw {

static void DeletePollHandle(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }
static void DeleteIdleHandle(uv_handle_t* h) { delete reinterpret_cast<uv_idle_t*>(h); }

FdPoller::~FdPoller() { Stop(); }

void FdPoller::Start(Napi::Env env, const char* op, int fd, Napi::Object owner,
                     Napi::Function callback, Handler handler) {
  Stop();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    ThrowErrno(env, op, EINVAL, "no libuv event loop");
  }
  auto* handle = new uv_poll_t();
  int rc = uv_poll_init(loop, handle, fd);
  if (rc != 0) {
    delete handle;
    ThrowErrno(env, op, -rc, std::string("uv_poll_init: ") + uv_strerror(rc));
  }
  handle->data = this;
  rc = uv_poll_start(handle, UV_READABLE, OnEvent);
  if (rc != 0) {
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle), DeletePollHandle);
    ThrowErrno(env, op, -rc, std::string("uv_poll_start: ") + uv_strerror(rc));
  }
  handle_ = handle;
  callback_ = Napi::Persistent(callback);
  owner_ = Napi::Persistent(owner);
  // One async context for the poller's lifetime; Node holds its resource
  // weakly, so this does not keep `owner` alive.
  if (!asyncContext_) asyncContext_ = std::make_unique<Napi::AsyncContext>(env, op, owner);
  handler_ = std::move(handler);
}

void FdPoller::Stop() {
  StopIdle();
  if (handle_ != nullptr) {
    uv_poll_stop(handle_);  // removes the fd from libuv's epoll set right away
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), DeletePollHandle);
    handle_ = nullptr;
  }
  // Safe while OnEvent runs: it holds its own local handles.
  callback_.Reset();
  owner_.Reset();
}

void FdPoller::SetBusyPoll(uint64_t windowNs, std::function<bool()> ready) {
  StopIdle();
  windowNs_ = 0;
  ready_ = std::move(ready);
  if (windowNs == 0 || handle_ == nullptr) return;
  auto* idle = new uv_idle_t();
  if (uv_idle_init(handle_->loop, idle) != 0) {
    delete idle;
    return;  // no window: events still arrive through the poll
  }
  idle->data = this;
  idle_ = idle;
  windowNs_ = windowNs;
}

void FdPoller::StopIdle() {
  if (idle_ == nullptr) return;
  uv_idle_stop(idle_);
  idle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(idle_), DeleteIdleHandle);
  idle_ = nullptr;
  spinning_ = false;
}

void FdPoller::OnEvent(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<FdPoller*>(handle->data);
  if (self == nullptr) return;
  self->Dispatch(status);
}

void FdPoller::OnIdle(uv_idle_t* idle) {
  auto* self = static_cast<FdPoller*>(idle->data);
  if (self == nullptr) return;
  if (self->ready_ && self->ready_()) {
    self->Dispatch(0);
    return;
  }
  if (uv_hrtime() - self->lastEventNs_ > self->windowNs_ && self->idle_ != nullptr) {
    uv_idle_stop(self->idle_);  // quiet: the loop may sleep again
    self->spinning_ = false;
  }
}

void FdPoller::Dispatch(int status) {
  if (owner_.IsEmpty() || callback_.IsEmpty()) return;
  if (idle_ != nullptr && status >= 0) {
    lastEventNs_ = uv_hrtime();
    if (!spinning_ && uv_idle_start(idle_, OnIdle) == 0) spinning_ = true;
  }
  Napi::Env env = owner_.Env();
  Napi::HandleScope scope(env);
  // Local handles keep the owner (and therefore `this`, which it owns) alive
  // for this call even if the callback stops polling or closes the object.
  Napi::Object owner = owner_.Value();
  PollCallback cb(callback_.Value(), owner, *asyncContext_);
  Handler handler = handler_;  // copy: the callback may call Start() again
  try {
    handler(env, status, cb);
  } catch (const Napi::Error& e) {
    // No JS frame below us: report like any other uncaught exception.
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace xdpfw
