// perf_event_open counters of the perf tier (perf.cc), registered on the addon's exports.
#pragma once

#include <napi.h>

namespace whytop {

/** Adds perfOpen, perfRead and perfClose to `exports`. */
void RegisterPerf(Napi::Env env, Napi::Object exports);

}  // namespace whytop
