// RingBuffer: consumer for a BPF_MAP_TYPE_RINGBUF map (libbpf ring_buffer).
//
// Events from BPF programs (new sessions, drops to log, ...) are collected as
// copies - a record is only valid inside libbpf's sample callback - and
// delivered to JS as one batch per readiness event, so a burst costs one JS
// call instead of one per record. Polling starts at construction and keeps
// the event loop alive until close().
#include <bpf/libbpf.h>

#include <cerrno>
#include <vector>

#include "args.h"
#include "errors.h"
#include "modules.h"
#include "poller.h"

namespace xdpfw {
namespace {

class RingBuffer : public Napi::ObjectWrap<RingBuffer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RingBuffer",
                       {
                           InstanceMethod("consume", &RingBuffer::Consume),
                           InstanceMethod("close", &RingBuffer::Close),
                       });
  }

  explicit RingBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingBuffer>(info) {
    Napi::Env env = info.Env();
    const char* op = "RingBuffer";
    int mapFd = GetFd(op, Arg(info, 0));
    if (!Arg(info, 1).IsFunction()) ThrowInvalid(env, op, "callback must be a function");
    rb_ = ring_buffer__new(mapFd, &RingBuffer::OnSample, this, nullptr);
    if (rb_ == nullptr) ThrowErrno(env, "RingBuffer: ring_buffer__new", errno);
    try {
      poller_.Start(env, op, ring_buffer__epoll_fd(rb_), info.This().As<Napi::Object>(),
                    info[1].As<Napi::Function>(),
                    [this](Napi::Env env, int status, const PollCallback& cb) {
                      OnReadable(env, status, cb);
                    });
    } catch (...) {
      Release();  // ~RingBuffer does not run when the constructor throws
      throw;
    }
  }

  ~RingBuffer() override { Release(); }

 private:
  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<RingBuffer*>(ctx);
    const auto* p = static_cast<const uint8_t*>(data);
    self->batch_.emplace_back(p, p + size);
    return 0;
  }

  void Release() {
    poller_.Stop();  // before freeing: the poll watches rb_'s epoll fd
    if (rb_ != nullptr) {
      ring_buffer__free(rb_);
      rb_ = nullptr;
    }
    batch_.clear();
  }

  // Drain all rings into batch_ and convert it to Buffer[].
  Napi::Array Drain(Napi::Env env, const char* op) {
    batch_.clear();
    int rc = ring_buffer__consume(rb_);
    Napi::Array out = Napi::Array::New(env, batch_.size());
    for (size_t i = 0; i < batch_.size(); i++) {
      out.Set(static_cast<uint32_t>(i),
              Napi::Buffer<uint8_t>::Copy(env, batch_[i].data(), batch_[i].size()));
    }
    batch_.clear();
    if (rc < 0) ThrowErrno(env, op, LibbpfErr(rc));
    return out;
  }

  void OnReadable(Napi::Env env, int status, const PollCallback& cb) {
    if (status < 0) {
      poller_.Stop();
      cb({Napi::Array::New(env), MakeErrnoError(env, "RingBuffer.poll", -status).Value()});
      return;
    }
    Napi::Array records;
    try {
      records = Drain(env, "RingBuffer: ring_buffer__consume");
    } catch (const Napi::Error& e) {
      poller_.Stop();
      cb({Napi::Array::New(env), e.Value()});
      return;
    }
    if (records.Length() > 0) cb({records});
  }

  Napi::Value Consume(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (rb_ == nullptr) ThrowErrno(env, "RingBuffer.consume", EBADF, "RingBuffer is closed");
    return Drain(env, "RingBuffer.consume");
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  struct ring_buffer* rb_ = nullptr;
  std::vector<std::vector<uint8_t>> batch_;
  FdPoller poller_;
};

}  // namespace

void RegisterRingBuffer(Napi::Env env, Napi::Object exports) {
  exports.Set("RingBuffer", RingBuffer::Define(env));
}

}  // namespace xdpfw
