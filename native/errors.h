// Errors thrown to JavaScript.
//
// Every failure surfaces as an Error whose message is "op: strerror(errno)"
// (plus optional detail), with a numeric `.errno` and a symbolic `.code`
// ('ENOENT', ...), like Node's own system errors. When lib/dataplane/native.ts
// registered its NativeError class via setErrorClass(), errors are instances
// of it so `instanceof NativeError` works.
#pragma once

#include <napi.h>

#include <string>

namespace xdpfw {

// Build (but do not throw) the error object. `detail` is appended in
// parentheses; `log` (e.g. libbpf/verifier output) becomes `.log`.
Napi::Error MakeErrnoError(Napi::Env env, const std::string& op, int err,
                           const std::string& detail = "",
                           const std::string& log = "");

// Throw the error as a C++ exception; node-addon-api rethrows it into JS at
// the native/JS boundary.
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& op, int err,
                             const std::string& detail = "");

// Invalid argument coming from JavaScript (EINVAL with an explanation).
[[noreturn]] void ThrowInvalid(Napi::Env env, const std::string& op,
                               const std::string& detail);

// errno from a libbpf return value: libbpf >= 1.0 returns -errno directly
// (and also sets errno); fall back to errno for plain -1 returns.
inline int LibbpfErr(long ret) {
  if (ret < -1) return static_cast<int>(-ret);
  return errno != 0 ? errno : EINVAL;
}

// "ENOENT" etc. for an errno value ("E<number>" if unknown).
std::string ErrnoName(int err);

void RegisterErrors(Napi::Env env, Napi::Object exports);

}  // namespace xdpfw
