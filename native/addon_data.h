// Per-environment state (one per main thread / worker), stored with
// napi_set_instance_data so the addon is safe to load in several workers.
#pragma once

#include <napi.h>

namespace xdpfw {

struct AddonData {
  Napi::FunctionReference errorClass;     // NativeError from native.ts (optional)
  Napi::FunctionReference bpfObjectCtor;  // BpfObject, created by openObject()
};

inline AddonData& GetAddonData(Napi::Env env) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data == nullptr) {
    data = new AddonData();
    env.SetInstanceData(data);  // deleted by node-addon-api at env teardown
  }
  return *data;
}

}  // namespace xdpfw
