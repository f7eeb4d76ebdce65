#include "errors.h"

#include <string.h>

#include <cerrno>

#include "addon_data.h"

namespace xdpfw {

std::string ErrnoName(int err) {
  // glibc >= 2.32; kernel-internal codes (ENOTSUPP = 524) have no libc name.
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
  if (err == 524) return "ENOTSUPP";
  return "E" + std::to_string(err);
}

static std::string ErrnoText(int err) {
  if (err == 524) return "Operation not supported (ENOTSUPP)";
  char buf[256];
  // GNU strerror_r returns a pointer which may or may not be buf.
  return strerror_r(err, buf, sizeof(buf));
}

Napi::Error MakeErrnoError(Napi::Env env, const std::string& op, int err,
                           const std::string& detail, const std::string& log) {
  std::string message = op + ": " + ErrnoText(err);
  if (!detail.empty()) message += " (" + detail + ")";

  Napi::Object obj;
  AddonData& data = GetAddonData(env);
  if (!data.errorClass.IsEmpty()) {
    obj = data.errorClass.New({Napi::String::New(env, message),
                               Napi::Number::New(env, err),
                               Napi::String::New(env, ErrnoName(err))});
  } else {
    obj = Napi::Error::New(env, message).Value();
  }
  obj.Set("errno", Napi::Number::New(env, err));
  obj.Set("code", Napi::String::New(env, ErrnoName(err)));
  if (!log.empty()) obj.Set("log", Napi::String::New(env, log));
  return Napi::Error(env, obj);
}

void ThrowErrno(Napi::Env env, const std::string& op, int err,
                const std::string& detail) {
  throw MakeErrnoError(env, op, err, detail);
}

void ThrowInvalid(Napi::Env env, const std::string& op,
                  const std::string& detail) {
  throw MakeErrnoError(env, op, EINVAL, detail);
}

// setErrorClass(ctor): ctor is called as `new ctor(message, errno, code)`.
static void SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    ThrowInvalid(env, "setErrorClass", "expected a constructor");
  }
  GetAddonData(env).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
}

void RegisterErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
}

}  // namespace xdpfw
