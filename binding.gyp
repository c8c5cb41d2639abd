{
  "targets": [
    {
      "target_name": "whytop_native",
      "sources": ["src/native/taskReader.cc", "src/native/bpf.cc", "src/native/perf.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "cflags!": ["-O3"],
      "cflags_cc!": ["-O3", "-std=gnu++17"],
      "cflags": ["-O2"],
      "cflags_cc": ["-O2", "-std=c++17", "-ffp-contract=off"]
    }
  ]
}
