#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

namespace xdpfw {

// Innermost active capture of this thread (captures can nest).
static thread_local LibbpfLogCapture* g_capture = nullptr;

// Captured text is bounded so a pathological verifier log cannot eat memory.
static constexpr size_t kMaxCapture = 4 << 20;

int LibbpfPrint(int level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  LibbpfLogCapture* cap = g_capture;
  if (cap == nullptr) {
    if (level == LIBBPF_WARN) return vfprintf(stderr, fmt, args);
    return 0;
  }
  char buf[1024];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(buf, sizeof(buf), fmt, copy);
  va_end(copy);
  if (n < 0) return n;
  std::string line;
  if (static_cast<size_t>(n) < sizeof(buf)) {
    line.assign(buf, n);
  } else {
    line.resize(n + 1);
    vsnprintf(&line[0], line.size(), fmt, args);
    line.resize(n);
  }
  if (cap->text_.size() + line.size() <= kMaxCapture) cap->text_ += line;
  if (level == LIBBPF_WARN && cap->warnings_.size() + line.size() <= kMaxCapture) {
    cap->warnings_ += line;
  }
  return n;
}

static int PrintThunk(enum libbpf_print_level level, const char* fmt, va_list args) {
  return LibbpfPrint(static_cast<int>(level), fmt, args);
}

void InstallLibbpfPrinter() { libbpf_set_print(PrintThunk); }

LibbpfLogCapture::LibbpfLogCapture() : prev_(g_capture) { g_capture = this; }

LibbpfLogCapture::~LibbpfLogCapture() { g_capture = prev_; }

void LibbpfLogCapture::FlushWarnings() {
  if (!warnings_.empty()) fputs(warnings_.c_str(), stderr);
  warnings_.clear();
}

std::string LogTail(const std::string& log, size_t max) {
  if (log.size() <= max) return log;
  size_t start = log.size() - max;
  size_t nl = log.find('\n', start);
  if (nl != std::string::npos && nl + 1 < log.size()) start = nl + 1;
  return "...\n" + log.substr(start);
}

}  // namespace xdpfw
