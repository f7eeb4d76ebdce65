// What the start-up checks need to know about an interface, possibly one in
// another network namespace (the far end of a veth): its kind, MTU, RX
// queues, link peer, whether an XDP program is attached, and the offloads
// that matter to XDP forwarding.
//
// A veth's peer is named by ifindex plus a namespace id relative to ours
// (IFLA_LINK_NETNSID). Nothing maps an id back to a namespace, so the
// namespaces reachable from /run/netns and /proc/*/ns/net are asked for
// their id (RTM_GETNSID) until one matches; sockets opened there after a
// setns() of this thread then query the device (a socket stays in the
// namespace it was created in), and the thread returns home at once.
#include <dirent.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace xdpfw {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// One request, one answer (no dumps): returns the answer's bytes or empty.
std::vector<char> NetlinkAsk(int nl, nlmsghdr* req) {
  static uint32_t seq = 1;
  req->nlmsg_seq = seq++;
  if (send(nl, req, req->nlmsg_len, 0) < 0) return {};
  std::vector<char> buf(65536);
  for (;;) {
    ssize_t n = recv(nl, buf.data(), buf.size(), 0);
    if (n < 0) return {};
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != req->nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) return {};
      return std::vector<char>(reinterpret_cast<char*>(h), reinterpret_cast<char*>(h) + h->nlmsg_len);
    }
  }
}

void AddAttr(nlmsghdr* h, uint16_t type, const void* data, uint16_t len) {
  auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(h) + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

Fd OpenRtnl() {
  Fd nl(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!nl.ok()) return nl;
  struct timeval tv = {2, 0};  // a kernel answer never takes this long; never hang the daemon
  setsockopt(nl.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return nl;
}

// The id our namespace gives the namespace open at nsFd, or -1.
int NsidOf(int nl, int nsFd) {
  struct {
    nlmsghdr h;
    rtgenmsg g;
    char attrs[64];
  } req;
  memset(&req, 0, sizeof(req));
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(rtgenmsg));
  req.h.nlmsg_type = RTM_GETNSID;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.g.rtgen_family = AF_UNSPEC;
  uint32_t fd = static_cast<uint32_t>(nsFd);
  AddAttr(&req.h, NETNSA_FD, &fd, sizeof(fd));
  std::vector<char> ans = NetlinkAsk(nl, &req.h);
  if (ans.empty()) return -1;
  auto* h = reinterpret_cast<nlmsghdr*>(ans.data());
  int len = static_cast<int>(h->nlmsg_len) - NLMSG_LENGTH(sizeof(rtgenmsg));
  for (auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(rtgenmsg)));
       RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == NETNSA_NSID) return *reinterpret_cast<int32_t*>(RTA_DATA(a));
  }
  return -1;
}

// Opens the namespace our namespace calls `nsid` and sets `where` to the
// path it was found at; invalid Fd if none is reachable.
Fd FindNamespace(int nl, int nsid, std::string* where) {
  // Where each id was last found: the daemon checks its links every 30 s on
  // the event loop that runs the slow path, and walking every /proc/PID on a
  // busy host each time would stall it. A cached path is used only while it
  // still names that namespace.
  static std::map<int, std::string> found;
  if (auto hit = found.find(nsid); hit != found.end()) {
    Fd fd(open(hit->second.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.ok() && NsidOf(nl, fd.get()) == nsid) {
      *where = hit->second;
      return fd;
    }
    found.erase(hit);
  }
  std::vector<std::string> paths;
  for (const char* dir : {"/run/netns", "/var/run/netns"}) {
    if (DIR* d = opendir(dir)) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') paths.push_back(std::string(dir) + "/" + e->d_name);
      }
      closedir(d);
    }
  }
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] >= '1' && e->d_name[0] <= '9') paths.push_back(std::string("/proc/") + e->d_name + "/ns/net");
    }
    closedir(d);
  }
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const std::string& p : paths) {
    Fd fd(open(p.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    if (!fd.ok() || fstat(fd.get(), &st) != 0) continue;
    if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
    if (NsidOf(nl, fd.get()) == nsid) {
      *where = p;
      found[nsid] = p;
      return fd;
    }
  }
  return Fd();
}

struct LinkAnswer {
  bool found = false;
  std::string name, kind;
  uint32_t mtu = 0, link = 0, rxQueues = 0, txQueues = 0;
  int32_t linkNetnsid = -1;
  bool xdp = false, up = false;
};

LinkAnswer GetLink(int nl, uint32_t ifindex) {
  struct {
    nlmsghdr h;
    ifinfomsg i;
    char attrs[64];
  } req;
  memset(&req, 0, sizeof(req));
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = static_cast<int>(ifindex);
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  AddAttr(&req.h, IFLA_EXT_MASK, &mask, sizeof(mask));
  LinkAnswer out;
  std::vector<char> ans = NetlinkAsk(nl, &req.h);
  if (ans.empty()) return out;
  auto* h = reinterpret_cast<nlmsghdr*>(ans.data());
  if (h->nlmsg_type != RTM_NEWLINK) return out;
  auto* ifi = reinterpret_cast<ifinfomsg*>(NLMSG_DATA(h));
  out.found = true;
  out.up = (ifi->ifi_flags & IFF_UP) != 0;
  int len = IFLA_PAYLOAD(h);
  for (rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    const auto u32 = [a] { return *reinterpret_cast<uint32_t*>(RTA_DATA(a)); };
    switch (a->rta_type) {
      case IFLA_IFNAME: out.name = static_cast<const char*>(RTA_DATA(a)); break;
      case IFLA_MTU: out.mtu = u32(); break;
      case IFLA_LINK: out.link = u32(); break;
      case IFLA_LINK_NETNSID: out.linkNetnsid = static_cast<int32_t>(u32()); break;
      case IFLA_NUM_RX_QUEUES: out.rxQueues = u32(); break;
      case IFLA_NUM_TX_QUEUES: out.txQueues = u32(); break;
      case IFLA_XDP: {
        int n = RTA_PAYLOAD(a);
        for (rtattr* x = static_cast<rtattr*>(RTA_DATA(a)); RTA_OK(x, n); x = RTA_NEXT(x, n)) {
          if (x->rta_type == IFLA_XDP_ATTACHED) out.xdp = *static_cast<uint8_t*>(RTA_DATA(x)) != XDP_ATTACHED_NONE;
        }
        break;
      }
      case IFLA_LINKINFO: {
        int n = RTA_PAYLOAD(a);
        for (rtattr* x = static_cast<rtattr*>(RTA_DATA(a)); RTA_OK(x, n); x = RTA_NEXT(x, n)) {
          if (x->rta_type == IFLA_INFO_KIND) out.kind = static_cast<const char*>(RTA_DATA(x));
        }
        break;
      }
    }
  }
  return out;
}

// One legacy ethtool value (ETHTOOL_G*); -1 when the driver does not say.
int EthtoolValue(int sock, const std::string& ifname, uint32_t cmd) {
  struct ethtool_value v = {cmd, 0};
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&v);
  if (ioctl(sock, SIOCETHTOOL, &ifr) != 0) return -1;
  return static_cast<int>(v.data);
}

Napi::Value Flag(Napi::Env env, int v) {
  if (v < 0) return env.Null();
  return Napi::Boolean::New(env, v != 0);
}

// linkState(ifindex, netnsid): the device at ifindex in our namespace
// (netnsid -1) or in the namespace our namespace calls netnsid, with the
// path that namespace was found at (netns; empty for ours). null when that
// namespace or device cannot be found.
Napi::Value LinkState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linkState";
  uint32_t ifindex = GetU32(op, "ifindex", Arg(info, 0));
  int32_t nsid = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : -1;

  Fd nl, sock;
  std::string where;
  if (nsid < 0) {
    nl = OpenRtnl();
    sock = Fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  } else {
    Fd home = OpenRtnl();
    if (!home.ok()) ThrowErrno(env, op, errno, "netlink");
    Fd target = FindNamespace(home.get(), nsid, &where);
    if (!target.ok()) return env.Null();
    Fd self(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!self.ok()) ThrowErrno(env, op, errno, "/proc/thread-self/ns/net");
    if (setns(target.get(), CLONE_NEWNET) != 0) ThrowErrno(env, op, errno, "setns");
    nl = OpenRtnl();
    sock = Fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    int saved = errno;
    if (setns(self.get(), CLONE_NEWNET) != 0) {
      // This thread is Node's: it must never stay in another namespace.
      perror("xdpfw: linkState: cannot return to the daemon's network namespace");
      abort();
    }
    errno = saved;
  }
  if (!nl.ok() || !sock.ok()) ThrowErrno(env, op, errno, "socket");
  LinkAnswer l = GetLink(nl.get(), ifindex);
  if (!l.found) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ifindex", ifindex);
  o.Set("netns", where);
  o.Set("name", l.name);
  o.Set("kind", l.kind);
  o.Set("mtu", l.mtu);
  o.Set("up", l.up);
  o.Set("linkIfindex", l.link);
  o.Set("linkNetnsid", l.linkNetnsid);
  o.Set("rxQueues", l.rxQueues);
  o.Set("txQueues", l.txQueues);
  o.Set("xdpAttached", l.xdp);
  o.Set("gro", Flag(env, EthtoolValue(sock.get(), l.name, ETHTOOL_GGRO)));
  o.Set("txChecksum", Flag(env, EthtoolValue(sock.get(), l.name, ETHTOOL_GTXCSUM)));
  o.Set("tso", Flag(env, EthtoolValue(sock.get(), l.name, ETHTOOL_GTSO)));
  o.Set("gso", Flag(env, EthtoolValue(sock.get(), l.name, ETHTOOL_GGSO)));
  int flags = EthtoolValue(sock.get(), l.name, ETHTOOL_GFLAGS);
  o.Set("lro", flags < 0 ? env.Null() : Napi::Boolean::New(env, (flags & ETH_FLAG_LRO) != 0));
  return o;
}

}  // namespace

void RegisterLinkState(Napi::Env env, Napi::Object exports) {
  exports.Set("linkState", Napi::Function::New(env, LinkState, "linkState"));
}

}  // namespace xdpfw
