// The slow path's way into the kernel's receive path (bpf/kernel_path.bpf.c):
// a tcx egress attachment through bpf_link, and an AF_PACKET socket whose
// frames carry the mark that program turns around into the interface's
// ingress.
#include <bpf/bpf.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace xdpfw {
namespace {

// enum bpf_attach_type of kernels 6.6 and later; the system headers may be older.
constexpr int kTcxEgress = 47;

// attachTcxEgress(progFd, ifindex): a bpf_link fd (closing it detaches).
Napi::Value AttachTcxEgress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "attachTcxEgress";
  int progFd = GetFd(op, Arg(info, 0));
  uint32_t ifindex = GetU32(op, "ifindex", Arg(info, 1));
  char name[IF_NAMESIZE];
  if (ifindex == 0 || if_indextoname(ifindex, name) == nullptr) {
    ThrowErrno(env, op, ENODEV, "no interface with ifindex " + std::to_string(ifindex));
  }
  struct bpf_link_create_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  int fd = bpf_link_create(progFd, static_cast<int>(ifindex), static_cast<enum bpf_attach_type>(kTcxEgress), &opts);
  if (fd < 0) ThrowErrno(env, op, LibbpfErr(fd), "tcx egress on " + std::string(name) + " (kernel 6.6 or later)");
  return Napi::Number::New(env, fd);
}

// packetSocket(mark): an AF_PACKET socket that only sends, every frame marked.
Napi::Value PacketSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "packetSocket";
  uint32_t mark = GetU32(op, "mark", Arg(info, 0));
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);  // protocol 0: receives nothing
  if (fd < 0) ThrowErrno(env, op, errno, "AF_PACKET socket");
  if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, op, err, "SO_MARK");
  }
  return Napi::Number::New(env, fd);
}

// packetSend(fd, ifindex, data, offset, length): sends one Ethernet frame out
// of ifindex; returns 0, or the errno (the caller counts it: a full queue is
// an expected loss, not an exception).
Napi::Value PacketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "packetSend";
  int fd = GetFd(op, Arg(info, 0));
  uint32_t ifindex = GetU32(op, "ifindex", Arg(info, 1));
  Bytes data = GetBytes(op, "data", Arg(info, 2));
  uint32_t offset = GetU32(op, "offset", Arg(info, 3));
  uint32_t length = GetU32(op, "length", Arg(info, 4));
  if (offset > data.len || length > data.len - offset || length < 14) ThrowInvalid(env, op, "offset + length beyond data, or shorter than an Ethernet header");
  struct sockaddr_ll to;
  memset(&to, 0, sizeof(to));
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(ifindex);
  ssize_t n = sendto(fd, data.data + offset, length, MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&to), sizeof(to));
  return Napi::Number::New(env, n == static_cast<ssize_t>(length) ? 0 : (n < 0 ? errno : EMSGSIZE));
}

}  // namespace

void RegisterKernelPath(Napi::Env env, Napi::Object exports) {
  exports.Set("attachTcxEgress", Napi::Function::New(env, AttachTcxEgress, "attachTcxEgress"));
  exports.Set("packetSocket", Napi::Function::New(env, PacketSocket, "packetSocket"));
  exports.Set("packetSend", Napi::Function::New(env, PacketSend, "packetSend"));
}

}  // namespace xdpfw
