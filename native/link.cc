// XDP attachment through bpf_link (BPF_LINK_CREATE).
//
// A link, unlike the legacy netlink attach, is owned by its fd (or a pin):
// if the daemon dies without pinning it, the program is detached by the
// kernel instead of lingering, and bpf_link_update swaps programs atomically
// without a window where no program is attached.
#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "fd_kind.h"
#include "modules.h"

namespace xdpfw {
namespace {

int CreateXdpLink(int progFd, uint32_t ifindex, uint32_t flags) {
  struct bpf_link_create_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  opts.flags = flags;
  int fd = bpf_link_create(progFd, static_cast<int>(ifindex), BPF_XDP, &opts);
  return fd >= 0 ? fd : -LibbpfErr(fd);
}

Napi::Value AttachXdp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "attachXdp";
  int progFd = GetFd(op, Arg(info, 0));
  uint32_t ifindex = GetU32(op, "ifindex", Arg(info, 1));
  std::string mode = GetString(op, "mode", Arg(info, 2));
  // The kernel reports a missing device as EINVAL; say what it is.
  char name[IF_NAMESIZE];
  if (ifindex == 0 || if_indextoname(ifindex, name) == nullptr) {
    ThrowErrno(env, op, ENODEV, "no interface with ifindex " + std::to_string(ifindex));
  }

  int fd;
  std::string took;
  if (mode == "native" || mode == "generic") {
    fd = CreateXdpLink(progFd, ifindex, mode == "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    if (fd < 0) ThrowErrno(env, op, -fd, mode + " mode on ifindex " + std::to_string(ifindex));
    took = mode;
  } else if (mode == "auto") {
    // Prefer the driver hook; fall back to generic (skb) mode on drivers
    // without native XDP support.
    fd = CreateXdpLink(progFd, ifindex, XDP_FLAGS_DRV_MODE);
    took = "native";
    if (fd < 0) {
      int nativeErr = -fd;
      fd = CreateXdpLink(progFd, ifindex, XDP_FLAGS_SKB_MODE);
      took = "generic";
      if (fd < 0) {
        ThrowErrno(env, op, -fd,
                   "generic mode on ifindex " + std::to_string(ifindex) +
                       " after native mode failed with " + ErrnoName(nativeErr));
      }
    }
  } else {
    ThrowInvalid(env, op, "mode must be 'native', 'generic' or 'auto'");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("linkFd", fd);
  out.Set("mode", took);
  return out;
}

Napi::Value LinkUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linkUpdate";
  int linkFd = GetFd(op, Arg(info, 0));
  int progFd = GetFd(op, Arg(info, 1));
  int rc = bpf_link_update(linkFd, progFd, nullptr);
  if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc));
  return env.Undefined();
}

Napi::Value LinkInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linkInfo";
  int fd = GetFd(op, Arg(info, 0));
  RequireBpfFd(env, op, fd, BpfFdKind::kLink);
  struct bpf_link_info li;
  memset(&li, 0, sizeof(li));
  __u32 len = sizeof(li);
  int rc = bpf_obj_get_info_by_fd(fd, &li, &len);
  if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc));
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", li.id);
  out.Set("progId", li.prog_id);
  out.Set("ifindex", li.type == BPF_LINK_TYPE_XDP ? li.xdp.ifindex : 0);
  out.Set("type", static_cast<uint32_t>(li.type));
  return out;
}

Napi::Value LinkDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linkDetach";
  int fd = GetFd(op, Arg(info, 0));
  int rc = bpf_link_detach(fd);
  if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc));
  return env.Undefined();
}

}  // namespace

void RegisterLink(Napi::Env env, Napi::Object exports) {
  exports.Set("attachXdp", Napi::Function::New(env, AttachXdp, "attachXdp"));
  exports.Set("linkUpdate", Napi::Function::New(env, LinkUpdate, "linkUpdate"));
  exports.Set("linkInfo", Napi::Function::New(env, LinkInfo, "linkInfo"));
  exports.Set("linkDetach", Napi::Function::New(env, LinkDetach, "linkDetach"));
}

}  // namespace xdpfw
