// Module initialisation: install the libbpf log router and register every
// native module's exports.
#include <napi.h>

#include "libbpf_log.h"
#include "modules.h"

namespace xdpfw {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLibbpfPrinter();
  RegisterErrors(env, exports);
  RegisterBpfObject(env, exports);
  RegisterMaps(env, exports);
  RegisterLink(env, exports);
  RegisterFdOps(env, exports);
  RegisterProgRun(env, exports);
  RegisterXsk(env, exports);
  RegisterRingBuffer(env, exports);
  RegisterBtf(env, exports);
  RegisterMisc(env, exports);
  RegisterSdNotify(env, exports);
  RegisterLinkState(env, exports);
  RegisterKernelPath(env, exports);
  return exports;
}

}  // namespace xdpfw

// NODE_API_MODULE pastes the name into an identifier: needs an unqualified one.
static Napi::Object InitXdpfw(Napi::Env env, Napi::Object exports) {
  return xdpfw::Init(env, exports);
}

NODE_API_MODULE(xdpfw_native, InitXdpfw)
