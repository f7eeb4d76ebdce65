{
  "targets": [
    {
      "target_name": "xdpfw_native",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/args.cc",
        "native/libbpf_log.cc",
        "native/poller.cc",
        "native/bpf_object.cc",
        "native/maps.cc",
        "native/link.cc",
        "native/fdops.cc",
        "native/prog_run.cc",
        "native/xsk.cc",
        "native/ringbuf.cc",
        "native/btf.cc",
        "native/misc.cc",
        "native/sd_notify.cc",
        "native/link_state.cc",
        "native/kernel_path.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "_GNU_SOURCE"
      ],
      # node's common.gypi builds with -fno-exceptions and -O3; we want C++
      # exceptions (node-addon-api turns a thrown Napi::Error into a JS throw)
      # and a plain -O2 build.
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-O3"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc": ["-fexceptions", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-lxdp", "-lbpf", "-lelf", "-lz"]
    }
  ]
}
