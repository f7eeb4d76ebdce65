// Each native module registers its exports here; addon.cc calls them all.
#pragma once

#include <napi.h>

namespace xdpfw {

void RegisterErrors(Napi::Env env, Napi::Object exports);     // errors.cc
void RegisterBpfObject(Napi::Env env, Napi::Object exports);  // bpf_object.cc
void RegisterMaps(Napi::Env env, Napi::Object exports);       // maps.cc
void RegisterLink(Napi::Env env, Napi::Object exports);       // link.cc
void RegisterFdOps(Napi::Env env, Napi::Object exports);      // fdops.cc
void RegisterProgRun(Napi::Env env, Napi::Object exports);    // prog_run.cc
void RegisterXsk(Napi::Env env, Napi::Object exports);        // xsk.cc
void RegisterRingBuffer(Napi::Env env, Napi::Object exports); // ringbuf.cc
void RegisterBtf(Napi::Env env, Napi::Object exports);        // btf.cc
void RegisterMisc(Napi::Env env, Napi::Object exports);       // misc.cc
void RegisterSdNotify(Napi::Env env, Napi::Object exports);   // sd_notify.cc
void RegisterLinkState(Napi::Env env, Napi::Object exports);  // link_state.cc
void RegisterKernelPath(Napi::Env env, Napi::Object exports); // kernel_path.cc

}  // namespace xdpfw
