// libbpf log routing.
//
// libbpf reports the interesting part of a failure (verifier log, "couldn't
// reuse pinned map", BTF problems) only through its print callback, not in
// the errno. While a LibbpfLogCapture is alive on a thread, libbpf output is
// collected so it can be attached to the JS error; otherwise warnings go to
// stderr as libbpf would print them by default.
#pragma once

#include <cstdarg>
#include <string>

namespace xdpfw {

void InstallLibbpfPrinter();

class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  // Everything captured so far (warnings and info).
  const std::string& Text() const { return text_; }
  // Forward captured warnings to stderr (used when the operation succeeded,
  // so that non-fatal libbpf warnings are not silently lost).
  void FlushWarnings();

 private:
  friend int LibbpfPrint(int level, const char* fmt, va_list args);
  std::string text_;
  std::string warnings_;
  LibbpfLogCapture* prev_;
};

// Last `max` bytes of a log, cut at a line boundary.
std::string LogTail(const std::string& log, size_t max);

}  // namespace xdpfw
