// Xsk: one AF_XDP socket with its own UMEM (libxdp xsk_umem / xsk_socket).
//
// UMEM layout: frames [0, frameCount/2) are RX buffers, initially all on the
// fill ring; frames [frameCount/2, frameCount) are a free pool for TX. Frames
// never migrate between halves, so RX can never starve TX or vice versa.
//
// The UMEM is exposed to JS as an external ArrayBuffer (no copies on RX):
// rx() returns [offset, length] pairs into it. A frame handed out by rx()
// stays untouched until the *next* rx() call, which gives it back to the
// kernel. The mapping is reference-counted between the socket and the
// ArrayBuffer, so JS can never touch unmapped memory; close() additionally
// detaches the ArrayBuffer (views become zero-length).
//
// The daemon owns the XDP program and XSKMAP, so libxdp is told not to load
// its default program (INHIBIT_PROG_LOAD); the caller inserts `fd` into its
// XSKMAP at index `queue`.
//
// Multi-buffer (XDP_USE_SG, unless multiBuffer: false): a packet larger than
// a frame arrives as several descriptors, all but the last flagged
// XDP_PKT_CONTD. rx() copies such a packet, with the metadata in front of
// it, into one of a few assembly slots that follow the UMEM in the same
// mapping (not registered with the kernel), gives its frames back at once,
// and returns the slot's offset: JS sees every packet contiguous. tx() splits
// a packet larger than a frame over several descriptors the same way.
#include <net/if.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "args.h"
#include "errors.h"
#include "modules.h"
#include "poller.h"

// Older uapi headers lack the multi-buffer flags (kernel 6.6+).
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

namespace xdpfw {
namespace {

// Assembly slots for multi-buffer packets: per rx() batch at most this many;
// the batch ends early when they are used up (the rest waits in the ring).
constexpr uint32_t kJumboSlots = 8;
// The largest packet rx() assembles and tx() sends, and the room in front of
// a slot's packet for the XDP metadata (the kernel's XDP_PACKET_HEADROOM).
constexpr uint32_t kJumboMax = 32768;
constexpr uint32_t kJumboHeadroom = 256;
constexpr uint32_t kJumboSlotSize = kJumboHeadroom + kJumboMax;
// Ethernet header and two VLAN tags, on top of the MTU.
constexpr uint32_t kMaxL2Header = 14 + 8;

struct UmemRegion {
  void* addr = nullptr;
  size_t size = 0;
  ~UmemRegion() {
    if (addr != nullptr) munmap(addr, size);
  }
};

constexpr long kBusyRetryMs = 1000;

long ElapsedMs(const struct timespec& start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
}

uint32_t RoundUpPow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

class Xsk : public Napi::ObjectWrap<Xsk> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Xsk",
                       {
                           InstanceMethod("rx", &Xsk::Rx),
                           InstanceMethod("tx", &Xsk::Tx),
                           InstanceMethod("completeTx", &Xsk::CompleteTxJs),
                           InstanceMethod("stats", &Xsk::Stats),
                           InstanceMethod("poll", &Xsk::Poll),
                           InstanceMethod("stopPoll", &Xsk::StopPoll),
                           InstanceMethod("close", &Xsk::Close),
                       });
  }

  explicit Xsk(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Xsk>(info) {
    // If Setup throws, ~Xsk does not run (the object was never constructed),
    // so release whatever was created before rethrowing.
    try {
      Setup(info);
    } catch (...) {
      Release();
      throw;
    }
  }

  ~Xsk() override { Release(); }

 private:
  void Setup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* op = "Xsk";
    if (!Arg(info, 0).IsObject()) ThrowInvalid(env, op, "options object required");
    Napi::Object o = info[0].As<Napi::Object>();
    uint32_t ifindex = GetU32(op, "ifindex", o.Get("ifindex"));
    std::string ifname = GetString(op, "ifname", o.Get("ifname"));
    queue_ = GetU32(op, "queue", o.Get("queue"));
    frameCount_ = OptU32(op, o, "frameCount", 4096);
    frameSize_ = OptU32(op, o, "frameSize", 2048);
    std::string mode = OptString(op, o, "mode", "auto");
    multiBuffer_ = OptBool(op, o, "multiBuffer", true);
    rxPrefix_ = OptU32(op, o, "rxPrefix", 0);
    if (rxPrefix_ > 256) ThrowInvalid(env, op, "rxPrefix above the kernel's 256 bytes of headroom");

    if (ifname.empty() || ifname.size() >= IFNAMSIZ) ThrowInvalid(env, op, "bad ifname");
    unsigned idx = if_nametoindex(ifname.c_str());
    if (idx == 0) ThrowErrno(env, op, ENODEV, "interface " + ifname);
    if (idx != ifindex) {
      ThrowInvalid(env, op, "interface " + ifname + " has ifindex " + std::to_string(idx) +
                                ", not " + std::to_string(ifindex));
    }
    long page = sysconf(_SC_PAGESIZE);
    if (frameSize_ < 2048 || frameSize_ > static_cast<unsigned long>(page) ||
        (frameSize_ & (frameSize_ - 1)) != 0) {
      ThrowInvalid(env, op, "frameSize must be a power of two between 2048 and the page size");
    }
    if (frameCount_ < 2 || frameCount_ % 2 != 0 || frameCount_ > (1u << 20) ||
        uint64_t{frameCount_} * frameSize_ > UINT32_MAX) {
      ThrowInvalid(env, op, "frameCount must be even, >= 2 and the UMEM smaller than 4 GiB");
    }
    if (mode != "auto" && mode != "copy" && mode != "zerocopy") {
      ThrowInvalid(env, op, "mode must be 'copy', 'zerocopy' or 'auto'");
    }
    rxFrames_ = frameCount_ / 2;

    region_ = std::make_shared<UmemRegion>();
    umemSize_ = size_t{frameCount_} * frameSize_;
    region_->size = umemSize_ + (multiBuffer_ ? size_t{kJumboSlots} * kJumboSlotSize : 0);
    void* mem = mmap(nullptr, region_->size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) ThrowErrno(env, "Xsk: mmap UMEM", errno);
    region_->addr = mem;

    // 'auto' prefers zero-copy (driver support needed) and falls back to
    // copy mode. Each attempt uses a fresh UMEM registration: a failed bind
    // leaves the first socket's rings in an unusable state.
    //
    // EBUSY usually means a socket on this queue was closed moments ago:
    // the kernel releases its buffer pool from a workqueue after an RCU
    // grace period (~30 ms here), so EBUSY is retried for up to a second.
    //
    // Multi-buffer is asked for first in each mode; a kernel or zero-copy
    // driver without it refuses the bind, and the socket then takes frames
    // of one UMEM frame only (multiBuffer reads false). 'auto' gives up
    // zero-copy for multi-buffer only when the link's MTU needs it.
    struct Attempt {
      bool zc, sg;
    };
    std::vector<Attempt> attempts;
    std::vector<bool> modes = mode == "auto" ? std::vector<bool>{true, false} : std::vector<bool>{mode == "zerocopy"};
    bool needSg = LinkMtu(ifname) + kMaxL2Header > frameSize_ - kJumboHeadroom;
    for (bool zc : modes) {
      if (multiBuffer_) attempts.push_back({zc, true});
      if (!multiBuffer_ || !needSg) attempts.push_back({zc, false});
    }
    if (multiBuffer_ && needSg) {
      for (bool zc : modes) attempts.push_back({zc, false});
    }
    int err = 0;
    std::string failed;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
      failed.clear();
      for (const Attempt& a : attempts) {
        err = CreateSocket(ifname, a.zc, a.sg);
        if (err == 0) break;
        failed += std::string(failed.empty() ? "" : ", ") + (a.zc ? "zerocopy" : "copy") +
                  (a.sg ? " multi-buffer: " : ": ") + ErrnoName(err);
      }
      if (err != EBUSY || ElapsedMs(start) > kBusyRetryMs) break;
      usleep(2000);
    }
    if (err != 0) {
      ThrowErrno(env, "Xsk: xsk_socket__create", err,
                 ifname + " queue " + std::to_string(queue_) + "; " + failed);
    }

    // Hand every RX frame to the kernel.
    for (uint32_t i = 0; i < rxFrames_; i++) pendingFill_.push_back(uint64_t{i} * frameSize_);
    heldRx_.reserve(rxFrames_);
    Refill();
    txFree_.reserve(frameCount_ - rxFrames_);
    for (uint32_t i = rxFrames_; i < frameCount_; i++) txFree_.push_back(uint64_t{i} * frameSize_);

    // The ArrayBuffer's finalizer holds its own reference to the mapping.
    auto* hint = new std::shared_ptr<UmemRegion>(region_);
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
        env, region_->addr, region_->size,
        [](Napi::Env, void*, std::shared_ptr<UmemRegion>* h) { delete h; }, hint);
    umemRef_ = Napi::Weak(ab);

    Napi::Object self = info.This().As<Napi::Object>();
    self.DefineProperties({
        Napi::PropertyDescriptor::Value("fd", Napi::Number::New(env, fd_), napi_enumerable),
        Napi::PropertyDescriptor::Value("umem", ab, napi_enumerable),
        Napi::PropertyDescriptor::Value("mode", Napi::String::New(env, zerocopy_ ? "zerocopy" : "copy"),
                                        napi_enumerable),
        Napi::PropertyDescriptor::Value("frameSize", Napi::Number::New(env, frameSize_),
                                        napi_enumerable),
        Napi::PropertyDescriptor::Value("multiBuffer", Napi::Boolean::New(env, multiBuffer_),
                                        napi_enumerable),
        Napi::PropertyDescriptor::Value("maxPacket", Napi::Number::New(env, MaxPacket()),
                                        napi_enumerable),
    });
  }

  // The interface's MTU; 0 if it cannot be read (then multi-buffer is not
  // taken for needed).
  static uint32_t LinkMtu(const std::string& ifname) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFMTU, &ifr);
    close(fd);
    return rc == 0 ? static_cast<uint32_t>(ifr.ifr_mtu) : 0;
  }

  // Returns 0 or an errno; on failure nothing is left allocated.
  int CreateSocket(const std::string& ifname, bool zerocopy, bool multiBuffer) {
    uint32_t ringRx = RoundUpPow2(rxFrames_);
    uint32_t ringTx = RoundUpPow2(frameCount_ - rxFrames_);
    struct xsk_umem_config ucfg;
    memset(&ucfg, 0, sizeof(ucfg));
    ucfg.fill_size = ringRx;
    ucfg.comp_size = ringTx;
    ucfg.frame_size = frameSize_;
    ucfg.frame_headroom = 0;
    ucfg.flags = 0;
    int rc = xsk_umem__create(&umem_, region_->addr, umemSize_, &fill_, &comp_, &ucfg);
    if (rc != 0) {
      umem_ = nullptr;
      return rc < 0 ? -rc : EINVAL;
    }
    struct xsk_socket_config scfg;
    memset(&scfg, 0, sizeof(scfg));
    scfg.rx_size = ringRx;
    scfg.tx_size = ringTx;
    scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    scfg.xdp_flags = 0;
    scfg.bind_flags = XDP_USE_NEED_WAKEUP | (zerocopy ? XDP_ZEROCOPY : XDP_COPY) |
                      (multiBuffer ? XDP_USE_SG : 0);
    rc = xsk_socket__create(&xsk_, ifname.c_str(), queue_, umem_, &rx_, &tx_, &scfg);
    if (rc != 0) {
      xsk_ = nullptr;
      xsk_umem__delete(umem_);
      umem_ = nullptr;
      return rc < 0 ? -rc : EINVAL;
    }
    fd_ = xsk_socket__fd(xsk_);
    // libxdp opens the socket without SOCK_CLOEXEC: a child the daemon starts later (ip monitor)
    // would keep it open, and its queue busy for the next socket, after close().
    fcntl(fd_, F_SETFD, fcntl(fd_, F_GETFD) | FD_CLOEXEC);
    zerocopy_ = zerocopy;
    multiBuffer_ = multiBuffer;
    return 0;
  }

  // Frees kernel objects and our mapping reference; no N-API calls, so it is
  // safe from the GC finalizer.
  void Release() {
    poller_.Stop();
    if (xsk_ != nullptr) {
      xsk_socket__delete(xsk_);
      xsk_ = nullptr;
    }
    if (umem_ != nullptr) {
      xsk_umem__delete(umem_);
      umem_ = nullptr;
    }
    fd_ = -1;
    region_.reset();
  }

  // The largest packet rx() returns and tx() takes: one frame without
  // multi-buffer (less the kernel's headroom on receive).
  uint32_t MaxPacket() const { return multiBuffer_ ? kJumboMax : frameSize_; }

  void CheckOpen(Napi::Env env, const char* op) {
    if (xsk_ == nullptr) ThrowErrno(env, op, EBADF, "Xsk is closed");
  }

  // Move as many pending RX frames onto the fill ring as it has room for;
  // wake the driver if it asked for it.
  void Refill() {
    uint32_t n = static_cast<uint32_t>(pendingFill_.size());
    if (n > 0) {
      uint32_t room = xsk_prod_nb_free(&fill_, n);
      if (room < n) n = room;
      uint32_t idx = 0;
      if (n > 0 && xsk_ring_prod__reserve(&fill_, n, &idx) == n) {
        size_t base = pendingFill_.size() - n;
        for (uint32_t i = 0; i < n; i++) {
          *xsk_ring_prod__fill_addr(&fill_, idx + i) = pendingFill_[base + i];
        }
        xsk_ring_prod__submit(&fill_, n);
        pendingFill_.resize(base);
      }
    }
    if (xsk_ring_prod__needs_wakeup(&fill_)) {
      // Errors (EAGAIN etc.) are harmless here: the kick is only a hint.
      recvfrom(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    }
  }

  bool TxRingDrained() const {
    return __atomic_load_n(tx_.consumer, __ATOMIC_ACQUIRE) == *tx_.producer;
  }

  // Make the kernel process the TX ring. In copy mode every send is done
  // synchronously inside sendto(), at most a fixed budget (32) of
  // descriptors per call, so kick until the ring is drained (bounded).
  void KickTx(Napi::Env env, uint32_t queued) {
    if (zerocopy_ && !xsk_ring_prod__needs_wakeup(&tx_)) return;
    uint32_t maxKicks = queued / 16 + 4;
    for (uint32_t i = 0; i < maxKicks; i++) {
      ssize_t r = sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
      if (r < 0) {
        int err = errno;
        if (err == EAGAIN || err == EINTR) {
          if (zerocopy_) return;
        } else if (err == EBUSY || err == ENOBUFS || err == ENETDOWN) {
          return;  // transient: completions or the link coming back will retry
        } else {
          ThrowErrno(env, "Xsk.tx: sendto", err);
        }
      }
      if (zerocopy_ || TxRingDrained()) return;
    }
  }

  uint32_t CompleteTx(Napi::Env env) {
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&comp_, frameCount_, &idx);
    uint64_t txStart = uint64_t{rxFrames_} * frameSize_;
    for (uint32_t i = 0; i < n; i++) {
      uint64_t addr = *xsk_ring_cons__comp_addr(&comp_, idx + i);
      addr -= addr % frameSize_;
      if (addr >= txStart && addr < umemSize_) txFree_.push_back(addr);
    }
    if (n > 0) xsk_ring_cons__release(&comp_, n);
    if (!zerocopy_ && !TxRingDrained()) KickTx(env, 0);
    return n;
  }

  // rx(descs: Uint32Array): fills [offset, length] pairs, returns the count.
  Napi::Value Rx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env, "Xsk.rx");
    U32Array descs = GetU32Array("Xsk.rx", "descs", Arg(info, 0));
    uint32_t max = static_cast<uint32_t>(descs.count / 2);

    // The previous batch is no longer needed by JS: recycle it first.
    pendingFill_.insert(pendingFill_.end(), heldRx_.begin(), heldRx_.end());
    heldRx_.clear();
    Refill();

    // Peek room for a whole multi-buffer packet even when few are asked for.
    uint32_t peekMax = max > 0 && max < 2 * kJumboMax / frameSize_ + 2 ? 2 * kJumboMax / frameSize_ + 2 : max;
    uint32_t idx = 0;
    uint32_t n = max > 0 ? xsk_ring_cons__peek(&rx_, peekMax, &idx) : 0;
    uint32_t out = 0, consumed = 0, slots = 0;
    while (consumed < n && out < max) {
      const struct xdp_desc* d = xsk_ring_cons__rx_desc(&rx_, idx + consumed);
      if (skipTail_) {  // the rest of a packet dropped as too large
        Recycle(d->addr);
        skipTail_ = (d->options & XDP_PKT_CONTD) != 0;
        consumed++;
        continue;
      }
      if ((d->options & XDP_PKT_CONTD) == 0) {
        uint64_t addr = d->addr;
        consumed++;
        if (addr >= umemSize_ || d->len > umemSize_ - addr || d->len <= rxPrefix_) {  // never expected
          Recycle(addr);
          continue;
        }
        heldRx_.push_back(addr - addr % frameSize_);
        descs.data[2 * out] = static_cast<uint32_t>(addr + rxPrefix_);
        descs.data[2 * out + 1] = d->len - rxPrefix_;
        out++;
        continue;
      }
      // A multi-buffer packet: descriptors consumed .. last.
      uint32_t last = consumed;
      while (last < n && (xsk_ring_cons__rx_desc(&rx_, idx + last)->options & XDP_PKT_CONTD) != 0) last++;
      if (last == n) {
        if (consumed > 0) break;  // its tail comes with the next batch
        // Longer than any batch can hold: drop what is here and the rest as it comes.
        rxTooBig_++;
        skipTail_ = true;
        for (; consumed < n; consumed++) Recycle(xsk_ring_cons__rx_desc(&rx_, idx + consumed)->addr);
        break;
      }
      if (slots == kJumboSlots) break;  // the next batch assembles it
      uint32_t at = AssembleJumbo(idx, consumed, last, slots);
      consumed = last + 1;
      if (at == 0) {
        rxTooBig_++;
        continue;
      }
      descs.data[2 * out] = at;
      descs.data[2 * out + 1] = assembledLen_;
      out++;
      slots++;
    }
    if (consumed < n) xsk_ring_cons__cancel(&rx_, n - consumed);
    if (consumed > 0) xsk_ring_cons__release(&rx_, consumed);
    if (!pendingFill_.empty()) Refill();
    return Napi::Number::New(env, out);
  }

  // A received frame the packet no longer needs goes back to the fill ring.
  void Recycle(uint64_t addr) {
    if (addr < umemSize_) pendingFill_.push_back(addr - addr % frameSize_);
  }

  // Copies descriptors first..last (ring positions from idx) into assembly
  // slot `slot`, metadata in front, and recycles their frames. Returns the
  // packet's offset in the mapping (its length in assembledLen_), or 0 when
  // it does not fit (dropped).
  uint32_t AssembleJumbo(uint32_t idx, uint32_t first, uint32_t last, uint32_t slot) {
    auto* base = static_cast<uint8_t*>(region_->addr);
    size_t at = umemSize_ + size_t{slot} * kJumboSlotSize + kJumboHeadroom;
    uint32_t len = 0;
    bool fits = true;
    for (uint32_t i = first; i <= last; i++) {
      const struct xdp_desc* d = xsk_ring_cons__rx_desc(&rx_, idx + i);
      uint64_t addr = d->addr;
      uint32_t dlen = d->len;
      if (addr >= umemSize_ || dlen > umemSize_ - addr) {
        fits = false;
      } else if (i == first) {  // the prefix stays in front, with the headroom
        if (dlen <= rxPrefix_) {
          fits = false;
        } else {
          addr += rxPrefix_;
          dlen -= rxPrefix_;
        }
      }
      if (!fits || dlen > kJumboMax - len) {
        fits = false;
      } else {
        if (i == first) {
          // The metadata XDP wrote sits in front of the first buffer.
          uint64_t head = addr % frameSize_ < kJumboHeadroom ? addr % frameSize_ : kJumboHeadroom;
          memcpy(base + at - head, base + addr - head, head);
        }
        memcpy(base + at + len, base + addr, dlen);
        len += dlen;
      }
      Recycle(addr);
    }
    assembledLen_ = len;
    return fits && len > 0 ? static_cast<uint32_t>(at) : 0;
  }

  // Descriptors a packet of `len` bytes takes.
  uint32_t DescsFor(uint32_t len) const { return (len + frameSize_ - 1) / frameSize_; }

  // tx(frames, lengths, count): queue packets laid back to back in `frames`;
  // one larger than a frame goes out in several (multi-buffer).
  Napi::Value Tx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* op = "Xsk.tx";
    CheckOpen(env, op);
    Bytes frames = GetBytes(op, "frames", Arg(info, 0));
    U32Array lengths = GetU32Array(op, "lengths", Arg(info, 1));
    uint32_t count = GetU32(op, "count", Arg(info, 2));
    if (count > lengths.count) ThrowInvalid(env, op, "count exceeds lengths.length");
    // Validate everything before touching the rings.
    uint32_t maxLen = MaxPacket();
    size_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t len = lengths.data[i];
      if (len == 0 || len > maxLen) {
        ThrowInvalid(env, op, "packet " + std::to_string(i) + " length " + std::to_string(len) +
                                  " not in [1, " + std::to_string(maxLen) + "]");
      }
      total += len;
    }
    if (total > frames.len) {
      ThrowInvalid(env, op, "lengths add up to " + std::to_string(total) + " bytes but frames has " +
                                std::to_string(frames.len));
    }

    CompleteTx(env);
    // As many whole packets as the free frames and the ring have room for.
    uint32_t want = 0;
    for (uint32_t i = 0; i < count; i++) want += DescsFor(lengths.data[i]);
    uint32_t room = static_cast<uint32_t>(txFree_.size());
    if (want > 0) {
      uint32_t ring = xsk_prod_nb_free(&tx_, want);
      if (ring < room) room = ring;
    }
    uint32_t n = 0, ndescs = 0;
    while (n < count && ndescs + DescsFor(lengths.data[n]) <= room) ndescs += DescsFor(lengths.data[n++]);
    uint32_t idx = 0;
    if (ndescs > 0 && xsk_ring_prod__reserve(&tx_, ndescs, &idx) == ndescs) {
      auto* umem = static_cast<uint8_t*>(region_->addr);
      size_t off = 0;
      uint32_t slot = 0;
      for (uint32_t i = 0; i < n; i++) {
        uint32_t left = lengths.data[i];
        while (left > 0) {
          uint32_t part = left < frameSize_ ? left : frameSize_;
          uint64_t addr = txFree_.back();
          txFree_.pop_back();
          memmove(umem + addr, frames.data + off, part);  // `frames` may itself be a UMEM view
          off += part;
          left -= part;
          struct xdp_desc* d = xsk_ring_prod__tx_desc(&tx_, idx + slot++);
          d->addr = addr;
          d->len = part;
          d->options = left > 0 ? XDP_PKT_CONTD : 0;
        }
      }
      xsk_ring_prod__submit(&tx_, ndescs);
    } else {
      n = 0;
      ndescs = 0;
    }
    if (ndescs > 0 || !TxRingDrained()) KickTx(env, ndescs);
    return Napi::Number::New(env, n);
  }

  Napi::Value CompleteTxJs(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env(), "Xsk.completeTx");
    return Napi::Number::New(info.Env(), CompleteTx(info.Env()));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env, "Xsk.stats");
    struct xdp_statistics st;
    memset(&st, 0, sizeof(st));  // older kernels return a shorter struct
    socklen_t len = sizeof(st);
    if (getsockopt(fd_, SOL_XDP, XDP_STATISTICS, &st, &len) != 0) {
      ThrowErrno(env, "Xsk.stats: getsockopt(XDP_STATISTICS)", errno);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("rxDropped", static_cast<double>(st.rx_dropped));
    out.Set("rxInvalidDescs", static_cast<double>(st.rx_invalid_descs));
    out.Set("txInvalidDescs", static_cast<double>(st.tx_invalid_descs));
    out.Set("rxRingFull", static_cast<double>(st.rx_ring_full));
    out.Set("fillRingEmptyDescs", static_cast<double>(st.rx_fill_ring_empty_descs));
    out.Set("txRingEmptyDescs", static_cast<double>(st.tx_ring_empty_descs));
    out.Set("rxTooBig", static_cast<double>(rxTooBig_));
    return out;
  }

  // poll(cb): cb() whenever the RX ring has descriptors; cb(err) once (and
  // polling stops) if the socket reports an error, e.g. its device vanished.
  Napi::Value Poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* op = "Xsk.poll";
    CheckOpen(env, op);
    if (!Arg(info, 0).IsFunction()) ThrowInvalid(env, op, "callback must be a function");
    poller_.Start(env, op, fd_, info.This().As<Napi::Object>(), info[0].As<Napi::Function>(),
                  [this](Napi::Env env, int status, const PollCallback& cb) {
                    if (status < 0) {
                      poller_.Stop();
                      cb({MakeErrnoError(env, "Xsk.poll", -status).Value()});
                      return;
                    }
                    cb({});
                  });
    return env.Undefined();
  }

  Napi::Value StopPoll(const Napi::CallbackInfo& info) {
    poller_.Stop();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    // Views of the UMEM become zero-length instead of pointing at memory the
    // kernel no longer uses for this socket.
    if (!umemRef_.IsEmpty()) {
      Napi::ArrayBuffer ab = umemRef_.Value();
      if (!ab.IsEmpty() && !ab.IsDetached()) ab.Detach();
      umemRef_.Reset();
    }
    return info.Env().Undefined();
  }

  std::shared_ptr<UmemRegion> region_;
  struct xsk_umem* umem_ = nullptr;
  struct xsk_socket* xsk_ = nullptr;
  struct xsk_ring_prod fill_ = {};
  struct xsk_ring_cons comp_ = {};
  struct xsk_ring_cons rx_ = {};
  struct xsk_ring_prod tx_ = {};
  int fd_ = -1;
  bool zerocopy_ = false;
  bool multiBuffer_ = true;
  size_t umemSize_ = 0;         // the registered UMEM; assembly slots follow it
  uint32_t assembledLen_ = 0;   // of the packet AssembleJumbo() built last
  bool skipTail_ = false;       // dropping the rest of an oversized packet
  uint64_t rxTooBig_ = 0;       // multi-buffer packets too large to assemble
  uint32_t queue_ = 0;
  uint32_t frameCount_ = 0;
  uint32_t frameSize_ = 0;
  // Bytes XDP put in front of every packet it sent up (bpf_xdp_adjust_head:
  // its metadata; kernels without bpf_xdp_adjust_meta need this). rx()
  // returns the packet after them; they stay in front of it in the frame.
  uint32_t rxPrefix_ = 0;
  uint32_t rxFrames_ = 0;
  std::vector<uint64_t> heldRx_;       // handed to JS by the last rx()
  std::vector<uint64_t> pendingFill_;  // RX frames waiting for fill-ring room
  std::vector<uint64_t> txFree_;       // free TX frames
  Napi::Reference<Napi::ArrayBuffer> umemRef_;
  FdPoller poller_;
};

}  // namespace

void RegisterXsk(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Xsk::Define(env);
  exports.Set("Xsk", ctor);
}

}  // namespace xdpfw
