// Small system helpers: interface name/index mapping, clocks and RX queue
// counts (one AF_XDP socket per RX queue).
#include <dirent.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace xdpfw {
namespace {

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = GetString("ifNameToIndex", "name", Arg(info, 0));
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) ThrowErrno(env, "ifNameToIndex", ENODEV, name);
  return Napi::Number::New(env, idx);
}

Napi::Value IfIndexToName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t idx = GetU32("ifIndexToName", "index", Arg(info, 0));
  char buf[IF_NAMESIZE];
  if (idx == 0 || if_indextoname(idx, buf) == nullptr) {
    ThrowErrno(env, "ifIndexToName", idx == 0 ? ENODEV : errno, "ifindex " + std::to_string(idx));
  }
  return Napi::String::New(env, buf);
}

// Same clock as bpf_ktime_get_ns(), so timestamps written by BPF programs
// (e.g. conntrack last-seen) can be compared directly.
Napi::Value ClockNs(Napi::Env env, clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(env, ns);
}

Napi::Value MonotonicNs(const Napi::CallbackInfo& info) {
  return ClockNs(info.Env(), CLOCK_MONOTONIC);
}

Napi::Value RealtimeNs(const Napi::CallbackInfo& info) {
  return ClockNs(info.Env(), CLOCK_REALTIME);
}

// ETHTOOL_GCHANNELS; 0 when the driver does not report channels.
uint32_t QueuesFromEthtool(const std::string& ifname) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct ethtool_channels ch;
  memset(&ch, 0, sizeof(ch));
  ch.cmd = ETHTOOL_GCHANNELS;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&ch);
  int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  if (rc != 0) return 0;
  return ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count;
}

// Count /sys/class/net/IF/queues/rx-*. Note sysfs shows the network
// namespace it was mounted in, so this is only a fallback.
uint32_t QueuesFromSysfs(const std::string& ifname) {
  std::string dir = "/sys/class/net/" + ifname + "/queues";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  uint32_t n = 0;
  while (struct dirent* e = readdir(d)) {
    if (strncmp(e->d_name, "rx-", 3) == 0) n++;
  }
  closedir(d);
  return n;
}

Napi::Value IfQueueCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = GetString("ifQueueCount", "ifname", Arg(info, 0));
  if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos) {
    ThrowInvalid(env, "ifQueueCount", "bad interface name");
  }
  if (if_nametoindex(name.c_str()) == 0) ThrowErrno(env, "ifQueueCount", ENODEV, name);
  uint32_t n = QueuesFromEthtool(name);
  if (n == 0) n = QueuesFromSysfs(name);
  if (n == 0) n = 1;
  return Napi::Number::New(env, n);
}

}  // namespace

void RegisterMisc(Napi::Env env, Napi::Object exports) {
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex, "ifNameToIndex"));
  exports.Set("ifIndexToName", Napi::Function::New(env, IfIndexToName, "ifIndexToName"));
  exports.Set("monotonicNs", Napi::Function::New(env, MonotonicNs, "monotonicNs"));
  exports.Set("realtimeNs", Napi::Function::New(env, RealtimeNs, "realtimeNs"));
  exports.Set("ifQueueCount", Napi::Function::New(env, IfQueueCount, "ifQueueCount"));
}

}  // namespace xdpfw
