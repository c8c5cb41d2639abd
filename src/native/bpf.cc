// The bpf(2) calls behind the BPF task iterator (src/sources/bpfTaskReader.ts): load a program the
// TypeScript side assembled, attach it as a task iterator, and read one pass of its output.
// The program and its link are plain file descriptors: the kernel frees both when the process exits,
// however it exits, so nothing is left behind.
#include "bpf.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
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
  Napi::Uint8Array insns = info[0].As<Napi::Uint8Array>();
  uint32_t btfId = info[1].As<Napi::Number>().Uint32Value();
  static const char kLicense[] = "GPL";  // bpf_seq_write is a GPL-only helper
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
      attr.expected_attach_type = BPF_TRACE_ITER;
      attr.attach_btf_id = btfId;
      attr.insns = reinterpret_cast<uint64_t>(insns.Data());
      attr.insn_cnt = static_cast<uint32_t>(insns.ByteLength() / 8);
      attr.license = reinterpret_cast<uint64_t>(kLicense);
      if (withLog) {
        attr.log_buf = reinterpret_cast<uint64_t>(log.data());
        attr.log_size = static_cast<uint32_t>(log.size());
        attr.log_level = 1;
      }
      strncpy(attr.prog_name, "whytop_tasks", sizeof(attr.prog_name) - 1);
      fd = static_cast<int>(sysBpf(BPF_PROG_LOAD, &attr));
      if (fd >= 0 || errno != EAGAIN) break;
    }
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    errno = saved_errno;
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
    std::string what = std::string("loading the BPF task iterator failed: ") + strerror(err);
    std::string tail = logTail(log);
    if (!tail.empty()) what += " (verifier: " + tail + ")";
    Napi::Error e = Napi::Error::New(env, what);
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }

  union bpf_iter_link_info linkInfo;
  memset(&linkInfo, 0, sizeof(linkInfo));
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
    Napi::Error e = Napi::Error::New(env, std::string("attaching the BPF task iterator failed: ") + strerror(err));
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("progFd", Napi::Number::New(env, progFd));
  out.Set("linkFd", Napi::Number::New(env, linkFd));
  return out;
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
#else
  (void)env;
  (void)exports;
#endif
}

}  // namespace whytop
