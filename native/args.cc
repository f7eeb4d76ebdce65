#include "args.h"

#include <cmath>

#include "errors.h"

namespace xdpfw {

Bytes GetBytes(const std::string& op, const char* what, const Napi::Value& v) {
  Napi::Env env = v.Env();
  Bytes b;
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    b.data = static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset();
    b.len = ta.ByteLength();
  } else if (v.IsDataView()) {
    Napi::DataView dv = v.As<Napi::DataView>();
    b.data = static_cast<uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    b.len = dv.ByteLength();
  } else if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    b.data = static_cast<uint8_t*>(ab.Data());
    b.len = ab.ByteLength();
  } else {
    ThrowInvalid(env, op, std::string(what) + " must be a Uint8Array/Buffer");
  }
  // A detached buffer reports length 0 and a null pointer: treat as empty.
  if (b.data == nullptr) b.len = 0;
  return b;
}

U32Array GetU32Array(const std::string& op, const char* what, const Napi::Value& v) {
  if (!v.IsTypedArray() ||
      v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    ThrowInvalid(v.Env(), op, std::string(what) + " must be a Uint32Array");
  }
  Napi::Uint32Array a = v.As<Napi::Uint32Array>();
  U32Array out;
  out.data = a.Data();
  out.count = a.ElementLength();
  if (out.data == nullptr) out.count = 0;
  return out;
}

static double GetInteger(const std::string& op, const char* what,
                         const Napi::Value& v, double min, double max) {
  if (!v.IsNumber()) {
    ThrowInvalid(v.Env(), op, std::string(what) + " must be a number");
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < min || d > max) {
    ThrowInvalid(v.Env(), op,
                 std::string(what) + " must be an integer in [" +
                     std::to_string(static_cast<long long>(min)) + ", " +
                     std::to_string(static_cast<long long>(max)) + "]");
  }
  return d;
}

uint32_t GetU32(const std::string& op, const char* what, const Napi::Value& v) {
  return static_cast<uint32_t>(GetInteger(op, what, v, 0, 4294967295.0));
}

int GetFd(const std::string& op, const Napi::Value& v) {
  if (!v.IsNumber()) ThrowInvalid(v.Env(), op, "fd must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < 0 || d > 2147483647.0) {
    ThrowErrno(v.Env(), op, EBADF, "fd must be a non-negative integer");
  }
  return static_cast<int>(d);
}

std::string GetString(const std::string& op, const char* what, const Napi::Value& v) {
  if (!v.IsString()) {
    ThrowInvalid(v.Env(), op, std::string(what) + " must be a string");
  }
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) {
    ThrowInvalid(v.Env(), op, std::string(what) + " must not contain NUL");
  }
  return s;
}

uint32_t OptU32(const std::string& op, const Napi::Object& o, const char* key,
                uint32_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  return GetU32(op, key, v);
}

bool OptBool(const std::string& op, const Napi::Object& o, const char* key,
             bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) ThrowInvalid(o.Env(), op, std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string OptString(const std::string& op, const Napi::Object& o,
                      const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  return GetString(op, key, v);
}

}  // namespace xdpfw
