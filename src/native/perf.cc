// perf_event_open(2) counters for the perf tier (src/sources/perfCounters.ts): one counting event
// per CPU (context switches; with --syscalls, the raw_syscalls:sys_enter tracepoint), read once per
// sample. They need CAP_PERFMON (or a permissive perf_event_paranoid), not CAP_BPF.
#include "perf.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace whytop {
namespace {

/** perfOpen(type: number, config: number, cpu: number): number — a counting event on one CPU (all tasks). */
Napi::Value PerfOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "perfOpen(type: number, config: number, cpu: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = info[0].As<Napi::Number>().Uint32Value();
  attr.config = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  int cpu = info[2].As<Napi::Number>().Int32Value();
  int fd = static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) {
    int err = errno;
    Napi::Error e = Napi::Error::New(env, std::string("perf_event_open failed: ") + strerror(err));
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

/** perfRead(fd: number): number — the event's count so far (NaN when it cannot be read). */
Napi::Value PerfRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info.Length() >= 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  uint64_t count = 0;
  ssize_t n;
  do {
    n = read(fd, &count, sizeof(count));
  } while (n < 0 && errno == EINTR);
  return Napi::Number::New(env, n == static_cast<ssize_t>(sizeof(count)) ? static_cast<double>(count) : __builtin_nan(""));
}

/** perfClose(fd: number) */
Napi::Value PerfClose(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsNumber()) {
    int fd = info[0].As<Napi::Number>().Int32Value();
    if (fd >= 0) close(fd);
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterPerf(Napi::Env env, Napi::Object exports) {
  exports.Set("perfOpen", Napi::Function::New<PerfOpen>(env, "perfOpen"));
  exports.Set("perfRead", Napi::Function::New<PerfRead>(env, "perfRead"));
  exports.Set("perfClose", Napi::Function::New<PerfClose>(env, "perfClose"));
}

}  // namespace whytop
