// Map element access by fd: lookup/update/delete, whole-map dump and batch
// update/delete. Keys and values are raw bytes laid out like the C structs
// (lib/ checks those layouts against BTF).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "errors.h"
#include "fd_kind.h"
#include "map_meta.h"
#include "modules.h"

namespace xdpfw {

int PossibleCpus(Napi::Env env, const std::string& op) {
  int n = libbpf_num_possible_cpus();
  if (n <= 0) ThrowErrno(env, op + ": libbpf_num_possible_cpus", LibbpfErr(n));
  return n;
}

static bool IsPerCpuType(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
         type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

// The kind check (a readlink of /proc/self/fd/N, a path walk) costs more
// than the map operation it guards, and the slow path updates maps for
// every new session. So it runs once per map an fd is seen to refer to:
// the fd's info is still read on every call (the sizes must be the
// kernel's), and only when it matches everything remembered for that fd -
// id, type, sizes, flags, name, which a program's info read as a map's
// cannot reproduce - is the check skipped. Per thread: workers load the
// addon too.
static bool SameMap(const struct bpf_map_info& a, const struct bpf_map_info& b) {
  return a.id == b.id && a.type == b.type && a.key_size == b.key_size && a.value_size == b.value_size &&
         a.max_entries == b.max_entries && a.map_flags == b.map_flags &&
         memcmp(a.name, b.name, sizeof(a.name)) == 0;
}

MapMeta GetMapMeta(Napi::Env env, const std::string& op, int fd) {
  thread_local std::unordered_map<int, struct bpf_map_info> checked;
  struct bpf_map_info info;
  memset(&info, 0, sizeof(info));
  __u32 len = sizeof(info);
  int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
  auto seen = checked.find(fd);
  if (seen == checked.end() || rc != 0 || !SameMap(seen->second, info)) {
    if (seen != checked.end()) checked.erase(seen);
    RequireBpfFd(env, op, fd, BpfFdKind::kMap);
    if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc), "fd " + std::to_string(fd) + " is not a BPF map");
    if (len < offsetof(struct bpf_map_info, map_flags) + sizeof(info.map_flags)) {
      ThrowErrno(env, op, EINVAL, "fd " + std::to_string(fd) + " is not a BPF map");
    }
    checked[fd] = info;
  }
  MapMeta m;
  m.id = info.id;
  m.type = info.type;
  m.keySize = info.key_size;
  m.valueSize = info.value_size;
  m.maxEntries = info.max_entries;
  m.flags = info.map_flags;
  m.name.assign(info.name, strnlen(info.name, sizeof(info.name)));
  m.perCpu = IsPerCpuType(info.type);
  m.valueBytes = m.perCpu ? ((static_cast<size_t>(info.value_size) + 7) & ~size_t{7}) *
                                static_cast<size_t>(PossibleCpus(env, op))
                          : info.value_size;
  return m;
}

namespace {

std::string Sizes(size_t got, size_t want) {
  return std::to_string(got) + " bytes given, need " + std::to_string(want);
}

// Key buffers must match key_size exactly (catches layout mistakes); value
// buffers must be at least large enough.
void CheckKey(Napi::Env env, const std::string& op, const Bytes& key, const MapMeta& m) {
  if (key.len != m.keySize) ThrowInvalid(env, op, "key: " + Sizes(key.len, m.keySize));
}

void CheckValue(Napi::Env env, const std::string& op, const Bytes& value, const MapMeta& m) {
  if (value.len < m.valueBytes) {
    ThrowInvalid(env, op, "value: " + Sizes(value.len, m.valueBytes) +
                              (m.perCpu ? " (per-CPU map: round_up(value_size, 8) * possible CPUs)" : ""));
  }
}

void InitBatchOpts(struct bpf_map_batch_opts* opts, uint64_t elemFlags) {
  memset(opts, 0, sizeof(*opts));
  opts->sz = sizeof(*opts);
  opts->elem_flags = elemFlags;
}

Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "mapLookup";
  int fd = GetFd(op, Arg(info, 0));
  Bytes key = GetBytes(op, "key", Arg(info, 1));
  Bytes value = GetBytes(op, "value", Arg(info, 2));
  MapMeta m = GetMapMeta(env, op, fd);
  CheckKey(env, op, key, m);
  CheckValue(env, op, value, m);
  int rc = bpf_map_lookup_elem(fd, key.data, value.data);
  if (rc != 0) {
    int err = LibbpfErr(rc);
    if (err == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, op, err);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "mapUpdate";
  int fd = GetFd(op, Arg(info, 0));
  Bytes key = GetBytes(op, "key", Arg(info, 1));
  Bytes value = GetBytes(op, "value", Arg(info, 2));
  uint32_t flags = GetU32(op, "flags", Arg(info, 3));
  MapMeta m = GetMapMeta(env, op, fd);
  CheckKey(env, op, key, m);
  CheckValue(env, op, value, m);
  int rc = bpf_map_update_elem(fd, key.data, value.data, flags);
  if (rc != 0) ThrowErrno(env, op, LibbpfErr(rc));
  return env.Undefined();
}

Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "mapDelete";
  int fd = GetFd(op, Arg(info, 0));
  Bytes key = GetBytes(op, "key", Arg(info, 1));
  MapMeta m = GetMapMeta(env, op, fd);
  CheckKey(env, op, key, m);
  int rc = bpf_map_delete_elem(fd, key.data);
  if (rc != 0) {
    int err = LibbpfErr(rc);
    if (err == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, op, err);
  }
  return Napi::Boolean::New(env, true);
}

// Growable malloc'd byte array that can be handed to a Buffer without a copy.
class ByteArena {
 public:
  ~ByteArena() { free(data_); }
  uint8_t* Reserve(Napi::Env env, size_t bytes) {
    if (bytes > cap_) {
      size_t cap = cap_ == 0 ? 4096 : cap_;
      while (cap < bytes) cap *= 2;
      void* p = realloc(data_, cap);
      if (p == nullptr) ThrowErrno(env, "mapDump", ENOMEM);
      data_ = static_cast<uint8_t*>(p);
      cap_ = cap;
    }
    return data_;
  }
  Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, size_t len) {
    if (data_ == nullptr || len == 0) return Napi::Buffer<uint8_t>::New(env, 0);
    uint8_t* data = data_;
    data_ = nullptr;
    cap_ = 0;
    return Napi::Buffer<uint8_t>::New(env, data, len,
                                      [](Napi::Env, uint8_t* p) { free(p); });
  }

 private:
  uint8_t* data_ = nullptr;
  size_t cap_ = 0;
};

bool BatchUnsupported(int err) {
  return err == EINVAL || err == ENOTSUP || err == 524 /* ENOTSUPP */;
}

// Iterate with get_next_key + lookup; used when the map type has no batch
// support. Entries deleted concurrently are skipped. Bounded by max_entries
// so a map that keeps changing cannot make us loop forever.
size_t DumpByIteration(Napi::Env env, int fd, const MapMeta& m, ByteArena& keys,
                       ByteArena& values) {
  size_t count = 0;
  std::vector<uint8_t> cur(m.keySize), next(m.keySize);
  bool first = true;
  while (count < m.maxEntries) {
    int rc = bpf_map_get_next_key(fd, first ? nullptr : cur.data(), next.data());
    if (rc != 0) {
      int err = LibbpfErr(rc);
      if (err == ENOENT) break;
      ThrowErrno(env, "mapDump: get_next_key", err);
    }
    first = false;
    uint8_t* k = keys.Reserve(env, (count + 1) * m.keySize) + count * m.keySize;
    uint8_t* v = values.Reserve(env, (count + 1) * m.valueBytes) + count * m.valueBytes;
    rc = bpf_map_lookup_elem(fd, next.data(), v);
    cur.swap(next);
    if (rc != 0) {
      int err = LibbpfErr(rc);
      if (err == ENOENT) continue;
      ThrowErrno(env, "mapDump: lookup", err);
    }
    memcpy(k, cur.data(), m.keySize);
    count++;
  }
  return count;
}

Napi::Value MapDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "mapDump";
  int fd = GetFd(op, Arg(info, 0));
  uint32_t keySize = GetU32(op, "keySize", Arg(info, 1));
  uint32_t valueSize = GetU32(op, "valueSize", Arg(info, 2));
  MapMeta m = GetMapMeta(env, op, fd);
  if (keySize != m.keySize || valueSize != m.valueBytes || m.keySize == 0) {
    ThrowInvalid(env, op, "map " + m.name + " has key_size " + std::to_string(m.keySize) +
                              " and value bytes " + std::to_string(m.valueBytes) + ", caller gave " +
                              std::to_string(keySize) + "/" + std::to_string(valueSize));
  }

  ByteArena keys, values;
  size_t total = 0;
  uint32_t chunk = m.maxEntries < 4096 ? (m.maxEntries == 0 ? 1 : m.maxEntries) : 4096;
  // Opaque batch cursor: u32 bucket for hash maps, a key for array maps.
  size_t tokenSize = (m.keySize > 8 ? m.keySize : 8);
  std::vector<uint8_t> inTok(tokenSize, 0), outTok(tokenSize, 0);
  bool first = true;
  struct bpf_map_batch_opts opts;
  InitBatchOpts(&opts, 0);

  for (;;) {
    uint8_t* k = keys.Reserve(env, (total + chunk) * m.keySize) + total * m.keySize;
    uint8_t* v = values.Reserve(env, (total + chunk) * m.valueBytes) + total * m.valueBytes;
    __u32 count = chunk;
    int rc = bpf_map_lookup_batch(fd, first ? nullptr : inTok.data(), outTok.data(), k, v,
                                  &count, &opts);
    int err = rc != 0 ? LibbpfErr(rc) : 0;
    if (err != 0 && err != ENOENT) {
      if (first && BatchUnsupported(err)) {
        total = DumpByIteration(env, fd, m, keys, values);
        break;
      }
      // A single hash bucket holds more entries than fit: retry bigger.
      if (err == ENOSPC && count == 0 && chunk < (1u << 20)) {
        chunk *= 2;
        continue;
      }
      ThrowErrno(env, op, err, "bpf_map_lookup_batch on map " + m.name);
    }
    total += count;
    if (err == ENOENT) break;  // no more entries
    inTok.swap(outTok);
    first = false;
  }

  Napi::Object out = Napi::Object::New(env);
  out.Set("keys", keys.ToBuffer(env, total * m.keySize));
  out.Set("values", values.ToBuffer(env, total * m.valueBytes));
  out.Set("count", Napi::Number::New(env, static_cast<double>(total)));
  return out;
}

// Returns how many elements were updated; throws only if none could be
// (a partial result tells the caller to retry the remainder, which then
// reports the error). Note the kernel accepts only BPF_ANY or BPF_F_LOCK as
// flags here: BPF_NOEXIST/BPF_EXIST are rejected with EINVAL for batches.
Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "mapUpdateBatch";
  int fd = GetFd(op, Arg(info, 0));
  Bytes keys = GetBytes(op, "keys", Arg(info, 1));
  Bytes values = GetBytes(op, "values", Arg(info, 2));
  uint32_t count = GetU32(op, "count", Arg(info, 3));
  uint32_t flags = GetU32(op, "flags", Arg(info, 4));
  MapMeta m = GetMapMeta(env, op, fd);
  if (keys.len < size_t{count} * m.keySize) {
    ThrowInvalid(env, op, "keys: " + Sizes(keys.len, size_t{count} * m.keySize));
  }
  if (values.len < size_t{count} * m.valueBytes) {
    ThrowInvalid(env, op, "values: " + Sizes(values.len, size_t{count} * m.valueBytes));
  }
  if (count == 0) return Napi::Number::New(env, 0);
  struct bpf_map_batch_opts opts;
  InitBatchOpts(&opts, flags);
  __u32 done = count;
  int rc = bpf_map_update_batch(fd, keys.data, values.data, &done, &opts);
  if (rc != 0) {
    // The kernel writes the processed count only once it started the loop;
    // an early rejection leaves our input count in place (done == count).
    if (done == 0 || done >= count) ThrowErrno(env, op, LibbpfErr(rc));
  }
  return Napi::Number::New(env, done);
}

// Deletes `count` keys; keys that are not present are skipped (the kernel
// aborts a batch at the first missing key, so we resume after it). Returns
// how many were actually deleted.
Napi::Value MapDeleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "mapDeleteBatch";
  int fd = GetFd(op, Arg(info, 0));
  Bytes keys = GetBytes(op, "keys", Arg(info, 1));
  uint32_t count = GetU32(op, "count", Arg(info, 2));
  MapMeta m = GetMapMeta(env, op, fd);
  if (keys.len < size_t{count} * m.keySize) {
    ThrowInvalid(env, op, "keys: " + Sizes(keys.len, size_t{count} * m.keySize));
  }
  struct bpf_map_batch_opts opts;
  InitBatchOpts(&opts, 0);
  uint32_t pos = 0, deleted = 0;
  while (pos < count) {
    __u32 n = count - pos;
    int rc = bpf_map_delete_batch(fd, keys.data + size_t{pos} * m.keySize, &n, &opts);
    // On failure a count left at its input value means nothing was processed.
    if (rc != 0 && n >= count - pos) n = 0;
    deleted += n;
    pos += n;
    if (rc == 0) break;
    int err = LibbpfErr(rc);
    if (err == ENOENT) {
      pos++;  // skip the missing key
      continue;
    }
    if (deleted == 0) ThrowErrno(env, op, err);
    break;
  }
  return Napi::Number::New(env, deleted);
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), PossibleCpus(info.Env(), "numPossibleCpus"));
}

}  // namespace

void RegisterMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup, "mapLookup"));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete, "mapDelete"));
  exports.Set("mapDump", Napi::Function::New(env, MapDump, "mapDump"));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch, "mapUpdateBatch"));
  exports.Set("mapDeleteBatch", Napi::Function::New(env, MapDeleteBatch, "mapDeleteBatch"));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus, "numPossibleCpus"));
}

}  // namespace xdpfw
