#include "poller.h"

#include "errors.h"

namespace xdpfw {

static void DeletePollHandle(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

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

void FdPoller::OnEvent(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<FdPoller*>(handle->data);
  if (self == nullptr || self->owner_.IsEmpty() || self->callback_.IsEmpty()) return;
  Napi::Env env = self->owner_.Env();
  Napi::HandleScope scope(env);
  // Local handles keep the owner (and therefore `self`, which it owns) alive
  // for this call even if the callback stops polling or closes the object.
  Napi::Object owner = self->owner_.Value();
  PollCallback cb(self->callback_.Value(), owner, *self->asyncContext_);
  Handler handler = self->handler_;  // copy: the callback may call Start() again
  try {
    handler(env, status, cb);
  } catch (const Napi::Error& e) {
    // No JS frame below us: report like any other uncaught exception.
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace xdpfw
