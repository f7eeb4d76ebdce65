// Generic BPF fd operations: pinning in bpffs, reopening pins, closing fds
// and identifying programs/maps (ids and tags let the daemon recognise the
// objects it left pinned on a previous run).
#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "fd_kind.h"
#include "map_meta.h"
#include "modules.h"

namespace xdpfw {
namespace {

Napi::Value PinObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "pinObject";
  int fd = GetFd(op, Arg(info, 0));
  std::string path = GetString(op, "path", Arg(info, 1));
  int rc = bpf_obj_pin(fd, path.c_str());
  if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc), path);
  return env.Undefined();
}

Napi::Value GetPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "getPinned";
  std::string path = GetString(op, "path", Arg(info, 0));
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(env, op, LibbpfErr(fd), path);
  return Napi::Number::New(env, fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "closeFd";
  int fd = GetFd(op, Arg(info, 0));
  // Linux always releases the fd, even when close() reports EINTR; retrying
  // could close an unrelated, newly opened fd.
  if (close(fd) != 0 && errno != EINTR) ThrowErrno(env, op, errno);
  return env.Undefined();
}

Napi::Value ProgInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "progInfo";
  int fd = GetFd(op, Arg(info, 0));
  RequireBpfFd(env, op, fd, BpfFdKind::kProg);
  struct bpf_prog_info pi;
  memset(&pi, 0, sizeof(pi));
  __u32 len = sizeof(pi);
  int rc = bpf_obj_get_info_by_fd(fd, &pi, &len);
  if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc));
  char tag[BPF_TAG_SIZE * 2 + 1];
  for (int i = 0; i < BPF_TAG_SIZE; i++) snprintf(tag + i * 2, 3, "%02x", pi.tag[i]);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", pi.id);
  out.Set("name", std::string(pi.name, strnlen(pi.name, sizeof(pi.name))));
  out.Set("tag", std::string(tag));
  return out;
}

Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "mapInfo";
  int fd = GetFd(op, Arg(info, 0));
  MapMeta m = GetMapMeta(env, op, fd);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", m.id);
  out.Set("name", m.name);
  out.Set("type", m.type);
  out.Set("keySize", m.keySize);
  out.Set("valueSize", m.valueSize);
  out.Set("maxEntries", m.maxEntries);
  return out;
}

}  // namespace

void RegisterFdOps(Napi::Env env, Napi::Object exports) {
  exports.Set("pinObject", Napi::Function::New(env, PinObject, "pinObject"));
  exports.Set("getPinned", Napi::Function::New(env, GetPinned, "getPinned"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("progInfo", Napi::Function::New(env, ProgInfo, "progInfo"));
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo, "mapInfo"));
}

}  // namespace xdpfw
