// Map metadata from the kernel (BPF_OBJ_GET_INFO_BY_FD).
//
// Every map call from JS re-reads key/value sizes from the kernel instead of
// trusting the caller: the kernel copies exactly key_size/value_size bytes
// to and from our pointers, so the JS buffers must be checked against the
// real sizes to avoid out-of-bounds reads and writes.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace xdpfw {

struct MapMeta {
  uint32_t id = 0;
  uint32_t type = 0;
  uint32_t keySize = 0;
  uint32_t valueSize = 0;
  uint32_t maxEntries = 0;
  uint32_t flags = 0;
  std::string name;
  bool perCpu = false;
  // Bytes one value occupies in user space: value_size, or for per-CPU maps
  // round_up(value_size, 8) * number of possible CPUs.
  size_t valueBytes = 0;
};

MapMeta GetMapMeta(Napi::Env env, const std::string& op, int fd);

// libbpf_num_possible_cpus(), throwing on failure.
int PossibleCpus(Napi::Env env, const std::string& op);

}  // namespace xdpfw
