// The BPF task iterator's system calls (bpf.cc), registered on the addon's exports.
#pragma once

#include <napi.h>

namespace whytop {

/** Adds bpfLoadTaskIter, bpfReadTaskIter and bpfClose to `exports` (nothing when built without linux/bpf.h). */
void RegisterBpf(Napi::Env env, Napi::Object exports);

}  // namespace whytop
