// Argument extraction with validation. Everything coming from JavaScript is
// checked here (types, ranges, buffer sizes) so that no native code ever
// reads or writes past a JS buffer: the kernel would happily copy
// key_size/value_size bytes to whatever pointer we pass it.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace xdpfw {

// A view of a JS Uint8Array/Buffer/any TypedArray/DataView/ArrayBuffer.
struct Bytes {
  uint8_t* data = nullptr;
  size_t len = 0;
};

// Bytes of argument `v`; throws EINVAL naming `what` if it is not binary data.
Bytes GetBytes(const std::string& op, const char* what, const Napi::Value& v);

// A Uint32Array argument, viewed as uint32_t elements.
struct U32Array {
  uint32_t* data = nullptr;
  size_t count = 0;
};
U32Array GetU32Array(const std::string& op, const char* what, const Napi::Value& v);

// Integer arguments (must be JS numbers holding integers in range).
uint32_t GetU32(const std::string& op, const char* what, const Napi::Value& v);
int GetFd(const std::string& op, const Napi::Value& v);
std::string GetString(const std::string& op, const char* what, const Napi::Value& v);

// Optional properties of an options object (undefined → fallback).
uint32_t OptU32(const std::string& op, const Napi::Object& o, const char* key,
                uint32_t fallback);
bool OptBool(const std::string& op, const Napi::Object& o, const char* key,
             bool fallback);
std::string OptString(const std::string& op, const Napi::Object& o,
                      const char* key, const std::string& fallback);

// Argument `i` of `info`, or undefined when missing.
inline Napi::Value Arg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? info[i] : info.Env().Undefined();
}

}  // namespace xdpfw
