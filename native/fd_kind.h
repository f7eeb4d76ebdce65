// Check what kind of BPF object an fd refers to before interpreting
// BPF_OBJ_GET_INFO_BY_FD output: the kernel happily fills a bpf_map_info
// buffer with program info when handed a program fd, which would turn into
// nonsense sizes/ids instead of a clear error.
#pragma once

#include <napi.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"

namespace xdpfw {

enum class BpfFdKind { kMap, kProg, kLink };

// Without /proc the check is skipped and the kernel's own validation applies.
inline void RequireBpfFd(Napi::Env env, const std::string& op, int fd, BpfFdKind kind) {
  char target[128];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  if (n < 0) {
    if (errno == ENOENT && access("/proc/self/fd", F_OK) == 0) {
      ThrowErrno(env, op, EBADF, "fd " + std::to_string(fd) + " is not open");
    }
    return;
  }
  target[n] = '\0';
  // The kernel's anon inode names. Links are "bpf_link" when created and
  // "bpf-link" when reopened from a pin.
  std::string name(target);
  bool ok = kind == BpfFdKind::kMap    ? name == "anon_inode:bpf-map"
            : kind == BpfFdKind::kProg ? name == "anon_inode:bpf-prog"
                                       : name == "anon_inode:bpf_link" || name == "anon_inode:bpf-link";
  if (!ok) {
    const char* what = kind == BpfFdKind::kMap ? "map" : kind == BpfFdKind::kProg ? "prog" : "link";
    ThrowInvalid(env, op, "fd " + std::to_string(fd) + " is not a BPF " + what + " (" + target + ")");
  }
}

}  // namespace xdpfw
