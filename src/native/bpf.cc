// The bpf(2) calls behind the BPF task iterator (src/sources/bpfTaskReader.ts) and the kernel probes
// (src/sources/kernelProbes.ts): load programs the TypeScript side assembled, attach them as a task
// iterator or to tracepoints, create and read maps, and read one pass of the iterator's output.
// The program and its link are plain file descriptors: the kernel frees both when the process exits,
// however it exits, so nothing is left behind.
#include "bpf.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#if __has_include(<linux/bpf.h>)
#include <linux/bpf.h>
#define WHYTOP_HAVE_BPF 1
#else
#define WHYTOP_HAVE_BPF 0
#endif

namespace whytop {
namespace {

#if WHYTOP_HAVE_BPF
long sysBpf(int cmd, union bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

/** The last lines of a verifier log (the reason is at the end), on one line. */
std::string logTail(const std::vector<char>& log) {
  std::string text(log.data(), strnlen(log.data(), log.size()));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > 600) text = "..." + text.substr(text.size() - 600);
  for (char& c : text)
    if (c == '\n') c = ';';
  return text;
}

/** Throws a JS Error carrying errno. */
void throwErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
}

/**
 * Loads a BPF_PROG_TYPE_TRACING program attached by BTF id; returns its fd, or -1 with a JS error
 * thrown (errno and, for a refused program, the end of the verifier's log).
 */
int loadTracingProgram(Napi::Env env, Napi::Uint8Array insns, uint32_t btfId, uint32_t attachType, const char* name) {
  static const char kLicense[] = "GPL";  // bpf_seq_write and the task storage helpers are GPL-only
  std::vector<char> log(256 * 1024, 0);
  union bpf_attr attr;
  auto load = [&](bool withLog) {
    // The verifier gives up with EAGAIN when a signal arrives (a profiler's SIGPROF, SIGWINCH):
    // signals wait (or go to another thread) while it runs, and EAGAIN is retried all the same.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    int fd = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
      memset(&attr, 0, sizeof(attr));
      attr.prog_type = BPF_PROG_TYPE_TRACING;
      attr.expected_attach_type = attachType;
      attr.attach_btf_id = btfId;
      attr.insns = reinterpret_cast<uint64_t>(insns.Data());
      attr.insn_cnt = static_cast<uint32_t>(insns.ByteLength() / 8);
      attr.license = reinterpret_cast<uint64_t>(kLicense);
      if (withLog) {
        attr.log_buf = reinterpret_cast<uint64_t>(log.data());
        attr.log_size = static_cast<uint32_t>(log.size());
        attr.log_level = 1;
      }
      strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
      fd = static_cast<int>(sysBpf(BPF_PROG_LOAD, &attr));
      if (fd >= 0 || errno != EAGAIN) break;
    }
    int savedErrno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    errno = savedErrno;
    return fd;
  };
  int progFd = load(false);
  int err = errno;
  // A refused program is loaded once more with the verifier's log, which says why.
  if (progFd < 0 && err != EPERM && err != EAGAIN) {
    int again = load(true);
    if (again >= 0) progFd = again;
  }
  if (progFd < 0) {
    std::string what = std::string("loading BPF program ") + name + " failed: " + strerror(err);
    std::string tail = logTail(log);
    if (!tail.empty()) what += " (verifier: " + tail + ")";
    Napi::Error e = Napi::Error::New(env, what);
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
  }
  return progFd;
}

/**
 * bpfLoadTaskIter(insns: Uint8Array, attachBtfId: number, tgid?: number): {progFd, linkFd}; throws
 * with errno and log. With tgid, the iterator visits only that process's threads.
 */
Napi::Value LoadTaskIter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "bpfLoadTaskIter(insns: Uint8Array, attachBtfId: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int progFd = loadTracingProgram(env, info[0].As<Napi::Uint8Array>(), info[1].As<Napi::Number>().Uint32Value(), BPF_TRACE_ITER, "whytop_tasks");
  if (progFd < 0) return env.Undefined();
  union bpf_iter_link_info linkInfo;
  memset(&linkInfo, 0, sizeof(linkInfo));
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.link_create.prog_fd = static_cast<uint32_t>(progFd);
  attr.link_create.attach_type = BPF_TRACE_ITER;
  if (info.Length() >= 3 && info[2].IsNumber()) {
    linkInfo.task.pid = info[2].As<Napi::Number>().Uint32Value();
    attr.link_create.iter_info = reinterpret_cast<uint64_t>(&linkInfo);
    attr.link_create.iter_info_len = sizeof(linkInfo);
  }
  int linkFd = static_cast<int>(sysBpf(BPF_LINK_CREATE, &attr));
  if (linkFd < 0) {
    int err = errno;
    close(progFd);
    throwErrno(env, "attaching the BPF task iterator failed", err);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("progFd", Napi::Number::New(env, progFd));
  out.Set("linkFd", Napi::Number::New(env, linkFd));
  return out;
}

/**
 * bpfAttachRawTp(insns: Uint8Array, attachBtfId: number, name: string): {progFd, linkFd} — loads a
 * tp_btf program for the tracepoint typedef `attachBtfId` (btf_trace_<event>) and attaches it.
 */
Napi::Value AttachRawTp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsString()) {
    Napi::TypeError::New(env, "bpfAttachRawTp(insns: Uint8Array, attachBtfId: number, name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[2].As<Napi::String>().Utf8Value();
  int progFd = loadTracingProgram(env, info[0].As<Napi::Uint8Array>(), info[1].As<Napi::Number>().Uint32Value(), BPF_TRACE_RAW_TP, name.c_str());
  if (progFd < 0) return env.Undefined();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.raw_tracepoint.prog_fd = static_cast<uint32_t>(progFd);
  int linkFd = static_cast<int>(sysBpf(BPF_RAW_TRACEPOINT_OPEN, &attr));
  if (linkFd < 0) {
    int err = errno;
    close(progFd);
    throwErrno(env, "attaching BPF program " + name + " failed", err);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("progFd", Napi::Number::New(env, progFd));
  out.Set("linkFd", Napi::Number::New(env, linkFd));
  return out;
}

/** bpfLoadBtf(blob: Uint8Array): number — loads type information for maps that need it. */
Napi::Value LoadBtf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "bpfLoadBtf(blob: Uint8Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array blob = info[0].As<Napi::Uint8Array>();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.btf = reinterpret_cast<uint64_t>(blob.Data());
  attr.btf_size = static_cast<uint32_t>(blob.ByteLength());
  int fd = static_cast<int>(sysBpf(BPF_BTF_LOAD, &attr));
  if (fd < 0) {
    throwErrno(env, "loading BTF failed", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

/**
 * bpfCreateMap({type, keySize, valueSize, maxEntries, flags, btfFd, btfKeyTypeId, btfValueTypeId,
 * name}): number — a map's fd.
 */
Napi::Value CreateMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "bpfCreateMap(options)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  auto num = [&](const char* key) -> uint32_t {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.map_type = num("type");
  attr.key_size = num("keySize");
  attr.value_size = num("valueSize");
  attr.max_entries = num("maxEntries");
  attr.map_flags = num("flags");
  attr.btf_fd = num("btfFd");
  attr.btf_key_type_id = num("btfKeyTypeId");
  attr.btf_value_type_id = num("btfValueTypeId");
  Napi::Value name = o.Get("name");
  if (name.IsString()) strncpy(attr.map_name, name.As<Napi::String>().Utf8Value().c_str(), sizeof(attr.map_name) - 1);
  int fd = static_cast<int>(sysBpf(BPF_MAP_CREATE, &attr));
  if (fd < 0) {
    throwErrno(env, "creating BPF map failed", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

/** bpfMapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean — false when absent. */
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "bpfMapLookup(fd: number, key: Uint8Array, value: Uint8Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array key = info[1].As<Napi::Uint8Array>();
  Napi::Uint8Array value = info[2].As<Napi::Uint8Array>();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.map_fd = info[0].As<Napi::Number>().Uint32Value();
  attr.key = reinterpret_cast<uint64_t>(key.Data());
  attr.value = reinterpret_cast<uint64_t>(value.Data());
  if (sysBpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  throwErrno(env, "reading BPF map failed", errno);
  return env.Undefined();
}

/**
 * bpfReadTaskIter(linkFd: number, into: Uint8Array): number — runs the iterator once and returns
 * the byte count of its whole output; when that exceeds into.byteLength, only the first part is
 * in `into` and the caller retries with a larger buffer.
 */
Napi::Value ReadTaskIter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray()) {
    Napi::TypeError::New(env, "bpfReadTaskIter(linkFd: number, into: Uint8Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int linkFd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array into = info[1].As<Napi::Uint8Array>();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.iter_create.link_fd = static_cast<uint32_t>(linkFd);
  int fd = static_cast<int>(sysBpf(BPF_ITER_CREATE, &attr));
  if (fd < 0) {
    Napi::Error::New(env, std::string("starting the BPF task iterator failed: ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  char* data = reinterpret_cast<char*>(into.Data());
  size_t cap = into.ByteLength();
  size_t total = 0;
  std::vector<char> overflow;
  for (;;) {
    char* dst = total < cap ? data + total : nullptr;
    size_t room = total < cap ? cap - total : 0;
    if (dst == nullptr) {
      overflow.resize(64 * 1024);
      dst = overflow.data();
      room = overflow.size();
    }
    ssize_t n = read(fd, dst, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      Napi::Error::New(env, std::string("reading the BPF task iterator failed: ") + strerror(err)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  close(fd);
  return Napi::Number::New(env, static_cast<double>(total));
}

/**
 * bpfSyscallNs(count: number): number — ns per syscall of a tight getppid() loop on this thread:
 * the fastest of five runs of `count` calls. Timed without and with the syscall probe, the
 * difference is what the probe adds to every syscall.
 */
Napi::Value SyscallNs(const Napi::CallbackInfo& info) {
  long count = info.Length() >= 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : 20000;
  if (count < 1) count = 1;
  double best = 0;
  for (int run = 0; run < 5; run++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < count; i++) syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / static_cast<double>(count);
    if (run == 0 || ns < best) best = ns;
  }
  return Napi::Number::New(info.Env(), best);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsNumber()) {
    int fd = info[0].As<Napi::Number>().Int32Value();
    if (fd >= 0) close(fd);
  }
  return info.Env().Undefined();
}
#endif

}  // namespace

void RegisterBpf(Napi::Env env, Napi::Object exports) {
#if WHYTOP_HAVE_BPF
  exports.Set("bpfLoadTaskIter", Napi::Function::New<LoadTaskIter>(env, "bpfLoadTaskIter"));
  exports.Set("bpfReadTaskIter", Napi::Function::New<ReadTaskIter>(env, "bpfReadTaskIter"));
  exports.Set("bpfClose", Napi::Function::New<CloseFd>(env, "bpfClose"));
  exports.Set("bpfAttachRawTp", Napi::Function::New<AttachRawTp>(env, "bpfAttachRawTp"));
  exports.Set("bpfLoadBtf", Napi::Function::New<LoadBtf>(env, "bpfLoadBtf"));
  exports.Set("bpfCreateMap", Napi::Function::New<CreateMap>(env, "bpfCreateMap"));
  exports.Set("bpfMapLookup", Napi::Function::New<MapLookup>(env, "bpfMapLookup"));
  exports.Set("bpfSyscallNs", Napi::Function::New<SyscallNs>(env, "bpfSyscallNs"));
#else
  (void)env;
  (void)exports;
#endif
}

}  // namespace whytop
