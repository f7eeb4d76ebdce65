// BpfObject: a loaded libbpf bpf_object (openObject()).
//
// Opening sets a pin path for every non-internal map when a pinDir is given,
// so libbpf either reuses a compatible map already pinned there (state such
// as conntrack survives a daemon restart) or pins the freshly created one at
// load time. Incompatible pinned maps make libbpf fail the load; we turn its
// log line into a clear "map NAME: pinned map incompatible" error.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <string>

#include "addon_data.h"
#include "args.h"
#include <map>
#include <set>

#include "errors.h"
#include "libbpf_log.h"
#include "modules.h"

namespace xdpfw {

namespace {

// libbpf's internal maps (.rodata/.bss/.data/.kconfig) are per-object
// globals and must never be shared through pins.
bool IsInternalMap(const struct bpf_map* map) {
  const char* name = bpf_map__name(map);
  return bpf_map__is_internal(map) || name == nullptr || strchr(name, '.') != nullptr;
}

// mkdir -p: libbpf only creates the last path component when pinning.
void MakeDirs(Napi::Env env, const std::string& dir) {
  std::string path;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    path = dir.substr(0, pos);
    if (path.empty()) continue;
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      ThrowErrno(env, "openObject: mkdir " + path, errno);
    }
  }
}

// Human-readable comparison of a pinned map and the object's definition.
std::string DescribeMismatch(struct bpf_map* map, const std::string& pinPath) {
  std::string obj = "object: type=" + std::to_string(bpf_map__type(map)) +
                    " key=" + std::to_string(bpf_map__key_size(map)) +
                    " value=" + std::to_string(bpf_map__value_size(map)) +
                    " max_entries=" + std::to_string(bpf_map__max_entries(map)) +
                    " flags=" + std::to_string(bpf_map__map_flags(map));
  int fd = bpf_obj_get(pinPath.c_str());
  if (fd < 0) return obj + "; pinned at " + pinPath;
  struct bpf_map_info info;
  memset(&info, 0, sizeof(info));
  __u32 len = sizeof(info);
  std::string pinned = "pinned at " + pinPath;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
    pinned += ": type=" + std::to_string(info.type) +
              " key=" + std::to_string(info.key_size) +
              " value=" + std::to_string(info.value_size) +
              " max_entries=" + std::to_string(info.max_entries) +
              " flags=" + std::to_string(info.map_flags);
  }
  close(fd);
  return pinned + "; " + obj;
}

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BpfObject",
                       {
                           InstanceMethod("maps", &BpfObject::Maps),
                           InstanceMethod("programs", &BpfObject::Programs),
                           InstanceMethod("mapFd", &BpfObject::MapFd),
                           InstanceMethod("progFd", &BpfObject::ProgFd),
                           InstanceMethod("close", &BpfObject::Close),
                       });
  }

  // Only constructed by openObject(), which passes the loaded object as an
  // External; `new BpfObject()` from JS is rejected.
  explicit BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      ThrowInvalid(info.Env(), "BpfObject", "use openObject() to create a BpfObject");
    }
    obj_ = info[0].As<Napi::External<struct bpf_object>>().Data();
  }

  // Garbage collection closes the object (and with it every map/program fd
  // it owns), so keep the BpfObject referenced while using its fds.
  ~BpfObject() override { Release(); }

 private:
  void Release() {
    if (obj_ != nullptr) {
      bpf_object__close(obj_);
      obj_ = nullptr;
    }
  }

  struct bpf_object* Loaded(Napi::Env env, const char* op) {
    if (obj_ == nullptr) ThrowErrno(env, op, EBADF, "BpfObject is closed");
    return obj_;
  }

  Napi::Value Maps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct bpf_object* obj = Loaded(env, "maps");
    Napi::Array out = Napi::Array::New(env);
    uint32_t i = 0;
    struct bpf_map* map;
    bpf_object__for_each_map(map, obj) {
      Napi::Object m = Napi::Object::New(env);
      m.Set("name", bpf_map__name(map));
      m.Set("fd", bpf_map__fd(map));
      m.Set("type", static_cast<double>(bpf_map__type(map)));
      m.Set("keySize", bpf_map__key_size(map));
      m.Set("valueSize", bpf_map__value_size(map));
      m.Set("maxEntries", bpf_map__max_entries(map));
      out.Set(i++, m);
    }
    return out;
  }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct bpf_object* obj = Loaded(env, "programs");
    Napi::Array out = Napi::Array::New(env);
    uint32_t i = 0;
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("name", bpf_program__name(prog));
      p.Set("fd", bpf_program__fd(prog));
      const char* sec = bpf_program__section_name(prog);
      p.Set("section", sec != nullptr ? sec : "");
      out.Set(i++, p);
    }
    return out;
  }

  Napi::Value MapFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct bpf_object* obj = Loaded(env, "mapFd");
    std::string name = GetString("mapFd", "name", Arg(info, 0));
    struct bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
    if (map == nullptr) ThrowErrno(env, "mapFd", ENOENT, "no map named '" + name + "'");
    int fd = bpf_map__fd(map);
    if (fd < 0) ThrowErrno(env, "mapFd", LibbpfErr(fd), "map '" + name + "' has no fd");
    return Napi::Number::New(env, fd);
  }

  Napi::Value ProgFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct bpf_object* obj = Loaded(env, "progFd");
    std::string name = GetString("progFd", "name", Arg(info, 0));
    struct bpf_program* prog = bpf_object__find_program_by_name(obj, name.c_str());
    if (prog == nullptr) {
      ThrowErrno(env, "progFd", ENOENT, "no program named '" + name + "'");
    }
    int fd = bpf_program__fd(prog);
    if (fd < 0) {
      ThrowErrno(env, "progFd", LibbpfErr(fd), "program '" + name + "' is not loaded");
    }
    return Napi::Number::New(env, fd);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  struct bpf_object* obj_ = nullptr;
};

// Owns a bpf_object until it is handed to a BpfObject wrapper.
struct ObjectGuard {
  struct bpf_object* obj;
  ~ObjectGuard() {
    if (obj != nullptr) bpf_object__close(obj);
  }
};

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// If the load failed because of a pinned map, name the map.
[[noreturn]] void ThrowLoadError(Napi::Env env, const std::string& path, int err,
                                 struct bpf_object* obj, const std::string& log) {
  static const std::regex reuseRe("map '([^']+)': error reusing pinned map");
  std::smatch m;
  if (std::regex_search(log, m, reuseRe)) {
    std::string name = m[1].str();
    struct bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
    const char* pin = map != nullptr ? bpf_map__pin_path(map) : nullptr;
    std::string detail = pin != nullptr ? DescribeMismatch(map, pin) : "";
    throw MakeErrnoError(env, "openObject: map " + name + ": pinned map incompatible",
                         err, detail, log);
  }
  throw MakeErrnoError(env, "openObject: load " + path, err,
                       log.empty() ? "" : "libbpf log:\n" + TrimRight(LogTail(log, 3000)), log);
}

Napi::Value OpenObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "openObject";
  std::string path = GetString(op, "path", Arg(info, 0));
  std::string pinDir;
  std::set<std::string> unpinned;
  std::map<std::string, uint32_t> maxEntries;
  Napi::Value optsVal = Arg(info, 1);
  if (!optsVal.IsUndefined()) {
    if (!optsVal.IsObject()) ThrowInvalid(env, op, "opts must be an object");
    Napi::Object opts = optsVal.As<Napi::Object>();
    pinDir = OptString(op, opts, "pinDir", "");
    Napi::Value list = opts.Get("unpinned");
    if (!list.IsUndefined()) {
      if (!list.IsArray()) ThrowInvalid(env, op, "unpinned must be an array of map names");
      Napi::Array names = list.As<Napi::Array>();
      for (uint32_t i = 0; i < names.Length(); i++) unpinned.insert(GetString(op, "unpinned[]", names.Get(i)));
    }
    Napi::Value sizes = opts.Get("maxEntries");
    if (!sizes.IsUndefined()) {
      if (!sizes.IsObject() || sizes.IsArray()) ThrowInvalid(env, op, "maxEntries must be an object of map name -> entries");
      Napi::Object o = sizes.As<Napi::Object>();
      Napi::Array keys = o.GetPropertyNames();
      for (uint32_t i = 0; i < keys.Length(); i++) {
        std::string name = GetString(op, "maxEntries key", keys.Get(i));
        Napi::Value n = o.Get(name);
        if (!n.IsNumber() || n.As<Napi::Number>().DoubleValue() < 1 || n.As<Napi::Number>().DoubleValue() > 4294967295.0)
          ThrowInvalid(env, op, "maxEntries values must be integers from 1 to 2^32-1");
        maxEntries[name] = n.As<Napi::Number>().Uint32Value();
      }
    }
  }
  while (pinDir.size() > 1 && pinDir.back() == '/') pinDir.pop_back();

  LibbpfLogCapture capture;
  ObjectGuard guard{bpf_object__open_file(path.c_str(), nullptr)};
  if (guard.obj == nullptr) {
    int err = errno;
    throw MakeErrnoError(env, "openObject: open " + path, err,
                         TrimRight(LogTail(capture.Text(), 3000)), capture.Text());
  }

  for (const auto& [name, n] : maxEntries) {
    struct bpf_map* map = bpf_object__find_map_by_name(guard.obj, name.c_str());
    if (map == nullptr) ThrowInvalid(env, op, "maxEntries: no map " + name);
    int rc = bpf_map__set_max_entries(map, n);
    if (rc != 0) ThrowErrno(env, std::string("openObject: map ") + name + ": set max entries", LibbpfErr(rc), path);
  }

  if (!pinDir.empty()) {
    MakeDirs(env, pinDir);
    struct bpf_map* map;
    bpf_object__for_each_map(map, guard.obj) {
      if (IsInternalMap(map) || unpinned.count(bpf_map__name(map)) != 0) continue;
      std::string pinPath = pinDir + "/" + bpf_map__name(map);
      int rc = bpf_map__set_pin_path(map, pinPath.c_str());
      if (rc != 0) {
        ThrowErrno(env, std::string("openObject: map ") + bpf_map__name(map) +
                            ": set pin path", LibbpfErr(rc), pinPath);
      }
    }
  }

  int rc = bpf_object__load(guard.obj);
  if (rc != 0) ThrowLoadError(env, path, LibbpfErr(rc), guard.obj, capture.Text());
  capture.FlushWarnings();

  Napi::Function ctor = GetAddonData(env).bpfObjectCtor.Value();
  Napi::Object wrapper =
      ctor.New({Napi::External<struct bpf_object>::New(env, guard.obj)});
  guard.obj = nullptr;  // now owned by the wrapper
  return wrapper;
}

}  // namespace

void RegisterBpfObject(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = BpfObject::Define(env);
  GetAddonData(env).bpfObjectCtor = Napi::Persistent(ctor);
  exports.Set("openObject", Napi::Function::New(env, OpenObject, "openObject"));
}

}  // namespace xdpfw
