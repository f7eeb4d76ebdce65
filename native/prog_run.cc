// BPF_PROG_TEST_RUN for XDP programs.
//
// Plain mode runs the program on a copy of `data` and returns the verdict
// and the (possibly rewritten) packet. Live-frames mode
// (BPF_F_TEST_XDP_LIVE_FRAMES) makes the kernel act on the verdict as if the
// frame had arrived on `ifindex`/`rxQueue`: XDP_TX transmits it, XDP_PASS
// hands it to the stack and XDP_REDIRECT follows the redirect (e.g. into an
// AF_XDP socket) - the daemon uses this to inject packets into its datapath.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace xdpfw {
namespace {

constexpr uint32_t kMaxDataOut = 1u << 20;

Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "progTestRun";
  int progFd = GetFd(op, Arg(info, 0));
  Napi::Value optsVal = Arg(info, 1);
  if (!optsVal.IsObject()) ThrowInvalid(env, op, "opts must be an object");
  Napi::Object opts = optsVal.As<Napi::Object>();

  // Used in place (no copy): `data` may be a view into an Xsk UMEM, and
  // `offset`/`length` pick a frame in it without a view per call.
  Bytes data = GetBytes(op, "data", opts.Get("data"));
  if (!opts.Get("offset").IsUndefined() || !opts.Get("length").IsUndefined()) {
    uint32_t offset = OptU32(op, opts, "offset", 0);
    if (offset > data.len) ThrowInvalid(env, op, "offset beyond data");
    uint32_t length = OptU32(op, opts, "length", static_cast<uint32_t>(data.len - offset));
    if (length > data.len - offset) ThrowInvalid(env, op, "offset + length beyond data");
    data.data += offset;
    data.len = length;
  }
  bool hasIfindex = !opts.Get("ifindex").IsUndefined();
  uint32_t ifindex = OptU32(op, opts, "ifindex", 0);
  uint32_t rxQueue = OptU32(op, opts, "rxQueue", 0);
  bool live = OptBool(op, opts, "live", false);
  uint32_t repeat = OptU32(op, opts, "repeat", 0);
  uint32_t batchSize = OptU32(op, opts, "batchSize", 0);
  uint32_t dataOutSize = OptU32(op, opts, "dataOutSize", 0);
  // Output written into the caller's buffer: no allocation per call.
  bool hasInto = !opts.Get("into").IsUndefined();
  Bytes into;
  if (hasInto) into = GetBytes(op, "into", opts.Get("into"));

  if (data.len == 0 || data.len > UINT32_MAX) ThrowInvalid(env, op, "data must not be empty");
  if (repeat > INT32_MAX) ThrowInvalid(env, op, "repeat too large");
  if (dataOutSize > kMaxDataOut) ThrowInvalid(env, op, "dataOutSize too large");
  if (!hasIfindex && !opts.Get("rxQueue").IsUndefined()) {
    ThrowInvalid(env, op, "rxQueue requires ifindex");
  }

  struct xdp_md ctx;
  memset(&ctx, 0, sizeof(ctx));
  ctx.data = 0;
  ctx.data_end = static_cast<__u32>(data.len);
  ctx.ingress_ifindex = ifindex;
  ctx.rx_queue_index = rxQueue;

  struct bpf_test_run_opts ro;
  memset(&ro, 0, sizeof(ro));
  ro.sz = sizeof(ro);
  ro.data_in = data.data;
  ro.data_size_in = static_cast<__u32>(data.len);
  ro.repeat = static_cast<int>(repeat);
  if (hasIfindex) {
    // The kernel resolves ingress_ifindex in the caller's network namespace.
    ro.ctx_in = &ctx;
    ro.ctx_size_in = sizeof(ctx);
  }

  // Default output room: the input plus headroom for programs that grow the
  // packet (bpf_xdp_adjust_head/tail), at least one page.
  std::vector<uint8_t> out;
  if (live) {
    if (hasInto) ThrowInvalid(env, op, "into is not valid with live: true");
    ro.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    ro.batch_size = batchSize;  // 0 = kernel default (64)
  } else {
    if (batchSize != 0) ThrowInvalid(env, op, "batchSize is only valid with live: true");
    if (hasInto) {
      if (into.len == 0 || into.len > kMaxDataOut) ThrowInvalid(env, op, "into must not be empty or larger than 1 MiB");
      ro.data_out = into.data;
      ro.data_size_out = static_cast<__u32>(into.len);
    } else {
      size_t size = dataOutSize != 0 ? dataOutSize : (data.len + 256 > 4096 ? data.len + 256 : 4096);
      out.resize(size);
      ro.data_out = out.data();
      ro.data_size_out = static_cast<__u32>(size);
    }
  }

  int rc = bpf_prog_test_run_opts(progFd, &ro);
  if (rc != 0) {
    int err = LibbpfErr(rc);
    if (err == ENOSPC) {
      ThrowErrno(env, op, err, "output packet is " + std::to_string(ro.data_size_out) +
                                   " bytes, larger than dataOutSize");
    }
    ThrowErrno(env, op, err);
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("retval", ro.retval);
  result.Set("duration", ro.duration);
  if (live) {
    result.Set("dataOut", env.Null());
  } else if (hasInto) {
    result.Set("dataOut", env.Null());
    result.Set("dataOutLength", ro.data_size_out < into.len ? ro.data_size_out : into.len);
  } else {
    size_t n = ro.data_size_out < out.size() ? ro.data_size_out : out.size();
    result.Set("dataOut", Napi::Buffer<uint8_t>::Copy(env, out.data(), n));
  }
  return result;
}

// progRunInto(fd, data, offset, length, ifindex, rxQueue, into, outLength):
// a plain run on data[offset, offset + length) arriving at ifindex/rxQueue,
// the packet as the program left it written to `into` and its length to
// outLength[0]; returns the verdict. Positional arguments and no result
// object: the slow path calls it for every first packet.
Napi::Value ProgRunInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "progRunInto";
  int progFd = GetFd(op, Arg(info, 0));
  Bytes data = GetBytes(op, "data", Arg(info, 1));
  uint32_t offset = GetU32(op, "offset", Arg(info, 2));
  uint32_t length = GetU32(op, "length", Arg(info, 3));
  uint32_t ifindex = GetU32(op, "ifindex", Arg(info, 4));
  uint32_t rxQueue = GetU32(op, "rxQueue", Arg(info, 5));
  Bytes into = GetBytes(op, "into", Arg(info, 6));
  U32Array outLength = GetU32Array(op, "outLength", Arg(info, 7));
  if (offset > data.len || length > data.len - offset || length == 0) ThrowInvalid(env, op, "offset + length beyond data");
  if (into.len == 0 || into.len > kMaxDataOut) ThrowInvalid(env, op, "into must not be empty or larger than 1 MiB");
  if (outLength.count < 1) ThrowInvalid(env, op, "outLength must hold one value");

  struct xdp_md ctx;
  memset(&ctx, 0, sizeof(ctx));
  ctx.data_end = length;
  ctx.ingress_ifindex = ifindex;
  ctx.rx_queue_index = rxQueue;
  struct bpf_test_run_opts ro;
  memset(&ro, 0, sizeof(ro));
  ro.sz = sizeof(ro);
  ro.data_in = data.data + offset;
  ro.data_size_in = length;
  ro.ctx_in = &ctx;
  ro.ctx_size_in = sizeof(ctx);
  ro.data_out = into.data;
  ro.data_size_out = static_cast<__u32>(into.len);
  int rc = bpf_prog_test_run_opts(progFd, &ro);
  if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc));
  outLength.data[0] = ro.data_size_out < into.len ? ro.data_size_out : static_cast<uint32_t>(into.len);
  return Napi::Number::New(env, ro.retval);
}

}  // namespace

void RegisterProgRun(Napi::Env env, Napi::Object exports) {
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun, "progTestRun"));
  exports.Set("progRunInto", Napi::Function::New(env, ProgRunInto, "progRunInto"));
}

}  // namespace xdpfw
