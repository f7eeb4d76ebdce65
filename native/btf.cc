// BTF queries on a compiled BPF object file.
//
// TypeScript mirrors the C structs shared with the BPF programs (map keys,
// values, ring buffer events) as byte layouts; lib/ compares those layouts
// with the compiler's view (BTF) at startup/tests, so a field reordered in C
// cannot silently corrupt the daemon's decoding.
#include <bpf/btf.h>

#include <cerrno>
#include <memory>
#include <string>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace xdpfw {
namespace {

struct BtfDeleter {
  void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfDeleter>;

BtfPtr ParseBtf(Napi::Env env, const std::string& op, const std::string& path) {
  struct btf* b = btf__parse_elf(path.c_str(), nullptr);
  if (b == nullptr) ThrowErrno(env, op + ": " + path, errno, "no BTF or unreadable ELF");
  return BtfPtr(b);
}

// Find `name` among the given kinds; also accept a typedef of such a type
// (`typedef struct { ... } foo_t;`). Returns the id of the underlying type.
int32_t FindType(const struct btf* b, const std::string& name, std::initializer_list<uint32_t> kinds) {
  for (uint32_t kind : kinds) {
    int32_t id = btf__find_by_name_kind(b, name.c_str(), kind);
    if (id > 0) return id;
  }
  int32_t id = btf__find_by_name_kind(b, name.c_str(), BTF_KIND_TYPEDEF);
  if (id <= 0) return -ENOENT;
  int32_t target = btf__resolve_type(b, id);  // strips typedefs/modifiers
  if (target <= 0) return -ENOENT;
  const struct btf_type* t = btf__type_by_id(b, target);
  for (uint32_t kind : kinds) {
    if (t != nullptr && btf_kind(t) == kind) return target;
  }
  return -ENOENT;
}

Napi::Value BtfStruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "btfStruct";
  std::string path = GetString(op, "objPath", Arg(info, 0));
  std::string name = GetString(op, "name", Arg(info, 1));
  BtfPtr b = ParseBtf(env, op, path);
  int32_t id = FindType(b.get(), name, {BTF_KIND_STRUCT, BTF_KIND_UNION});
  if (id < 0) ThrowErrno(env, op, ENOENT, "struct/union '" + name + "' not found in BTF of " + path);
  const struct btf_type* t = btf__type_by_id(b.get(), id);

  Napi::Array members = Napi::Array::New(env);
  const struct btf_member* m = btf_members(t);
  uint16_t n = btf_vlen(t);
  for (uint16_t i = 0; i < n; i++, m++) {
    uint32_t bitOffset = btf_member_bit_offset(t, i);
    uint32_t bitSize = btf_member_bitfield_size(t, i);
    // Member size through typedefs/modifiers; arrays give their full size.
    int64_t size = btf__resolve_size(b.get(), m->type);
    if (size < 0) {
      ThrowErrno(env, op, static_cast<int>(-size), "cannot size member " + std::to_string(i) + " of " + name);
    }
    const char* mname = btf__name_by_offset(b.get(), m->name_off);
    Napi::Object mo = Napi::Object::New(env);
    mo.Set("name", mname != nullptr ? mname : "");
    mo.Set("offset", bitOffset / 8);
    mo.Set("size", static_cast<double>(size));
    mo.Set("bitfield", bitSize != 0);
    mo.Set("bitOffset", bitOffset);
    mo.Set("bitSize", bitSize);
    members.Set(i, mo);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("size", t->size);
  out.Set("members", members);
  return out;
}

Napi::Value BtfEnum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "btfEnum";
  std::string path = GetString(op, "objPath", Arg(info, 0));
  std::string name = GetString(op, "name", Arg(info, 1));
  BtfPtr b = ParseBtf(env, op, path);
  int32_t id = FindType(b.get(), name, {BTF_KIND_ENUM, BTF_KIND_ENUM64});
  if (id < 0) ThrowErrno(env, op, ENOENT, "enum '" + name + "' not found in BTF of " + path);
  const struct btf_type* t = btf__type_by_id(b.get(), id);
  bool isSigned = btf_kflag(t);
  Napi::Object out = Napi::Object::New(env);
  uint16_t n = btf_vlen(t);
  if (btf_is_enum(t)) {
    const struct btf_enum* e = btf_enum(t);
    for (uint16_t i = 0; i < n; i++, e++) {
      double v = isSigned ? static_cast<double>(e->val) : static_cast<double>(static_cast<uint32_t>(e->val));
      out.Set(btf__name_by_offset(b.get(), e->name_off), v);
    }
  } else {
    // ENUM64 entries are {name_off, val_lo32, val_hi32}; read them as u32
    // triples (struct btf_enum64 may be missing from older UAPI headers).
    const auto* e = reinterpret_cast<const uint32_t*>(t + 1);
    for (uint16_t i = 0; i < n; i++, e += 3) {
      uint64_t raw = (static_cast<uint64_t>(e[2]) << 32) | e[1];
      double v = isSigned ? static_cast<double>(static_cast<int64_t>(raw)) : static_cast<double>(raw);
      const char* ename = btf__name_by_offset(b.get(), e[0]);
      out.Set(ename != nullptr ? ename : "", v);
    }
  }
  return out;
}

}  // namespace

void RegisterBtf(Napi::Env env, Napi::Object exports) {
  exports.Set("btfStruct", Napi::Function::New(env, BtfStruct, "btfStruct"));
  exports.Set("btfEnum", Napi::Function::New(env, BtfEnum, "btfEnum"));
}

}  // namespace xdpfw
