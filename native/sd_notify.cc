// The sender side of the service manager's notification protocol
// (sd_notify(3)): one datagram to the AF_UNIX socket named by NOTIFY_SOCKET.
// Node has no unix datagram sockets, and the protocol is too small to pull
// in libsystemd for it.
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace xdpfw {
namespace {

// sdNotify(socketPath, message): `socketPath` is a filesystem path ("/...")
// or an abstract name ("@..."). Sent from this process itself, so the
// receiver sees our pid in SCM_CREDENTIALS (systemd's NotifyAccess=main).
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "sdNotify";
  std::string path = GetString(op, "socketPath", Arg(info, 0));
  std::string message = GetString(op, "message", Arg(info, 1));
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@') || path.size() > sizeof(addr.sun_path) ||
      (path[0] == '/' && path.size() == sizeof(addr.sun_path))) {
    ThrowInvalid(env, op, "NOTIFY_SOCKET must be an absolute path or an @abstract name that fits sun_path: " + path);
  }
  if (message.empty()) ThrowInvalid(env, op, "empty message");
  memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() + (path[0] == '/' ? 1 : 0));

  // Non-blocking: a manager too busy to read must not stall the slow path
  // (the notification is lost, EAGAIN is reported).
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) ThrowErrno(env, op, errno, "socket(AF_UNIX, SOCK_DGRAM)");
  ssize_t n = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (n < 0) ThrowErrno(env, op, err, path);
  if (static_cast<size_t>(n) != message.size()) ThrowErrno(env, op, EMSGSIZE, path);
  return env.Undefined();
}

}  // namespace

void RegisterSdNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
}

}  // namespace xdpfw
