// Native per-task reader: the C++ implementation of the TaskReader contract
// (src/sources/taskReader.ts). One read() lists every task under a proc root and returns all of
// them as columns; the files read every pass are kept open and re-read with pread().
// The TypeScript twin (src/sources/tsTaskReader.ts) follows the same rules step for step.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include <napi.h>

#include "bpf.h"
#include "perf.h"
#include "procParse.h"

namespace whytop {
namespace {

/** Descriptors left for everything else in the process when no budget is given. */
constexpr double kFdReserve = 1024;
constexpr int kNoFd = -1;

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/** Writes the decimal digits of v (non-negative) at out; returns the position after them. */
inline char* putUint(char* out, uint32_t v) {
  char tmp[12];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *out++ = tmp[--n];
  return out;
}

/** Builds "<id>/<leaf>" (NUL-terminated) in out. */
inline const char* idPath(char* out, int32_t id, const char* leaf) {
  char* p = putUint(out, static_cast<uint32_t>(id));
  *p++ = '/';
  size_t n = strlen(leaf);
  memcpy(p, leaf, n + 1);
  return out;
}

inline void closeQuietly(int fd) {
  if (fd >= 0) close(fd);
}

/** What the reader remembers about one task between passes. */
struct TaskEntry {
  double starttime = kNaN;
  int statFd = kNoFd;
  int schedstatFd = kNoFd;
  int statusFd = kNoFd;
  int32_t pid = 0;
  uint32_t seenPass = 0;
  /** schedstat on-CPU time at the previous pass (NaN when unknown). */
  double runNs = kNaN;
  double vcsw = kNaN;
  double ivcsw = kNaN;
};

/** What the reader remembers about one process between passes. */
struct ProcEntry {
  int ioFd = kNoFd;
  uint32_t seenPass = 0;
};

class Reader : public Napi::ObjectWrap<Reader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TaskReader",
                       {InstanceMethod<&Reader::Read>("read"), InstanceMethod<&Reader::Close>("close"),
                        InstanceMethod<&Reader::KeptFds>("keptFds")});
  }

  explicit Reader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reader>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(env, "TaskReader(procRoot: string, fdBudget?: number)").ThrowAsJavaScriptException();
      return;
    }
    root_ = info[0].As<Napi::String>().Utf8Value();
    int fd = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      std::string msg = "cannot read proc root " + root_ + ": " + strerror(errno);
      Napi::Error::New(env, msg).ThrowAsJavaScriptException();
      return;
    }
    close(fd);
    budget_ = defaultBudget();
    if (info.Length() >= 2 && info[1].IsNumber()) {
      double b = info[1].As<Napi::Number>().DoubleValue();
      if (!std::isnan(b)) budget_ = b < 0 ? 0 : b;
    }
    buf_.resize(16384);
    dents_.resize(256 * 1024);
  }

  ~Reader() override { closeAll(); }

 private:
  // ---- file access -------------------------------------------------------------------------

  static double defaultBudget() {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    double soft = rl.rlim_cur == RLIM_INFINITY ? 1048576.0 : static_cast<double>(rl.rlim_cur);
    return std::max(0.0, soft - kFdReserve);
  }

  /** Reads a whole file from offset 0 into buf_ (growing it as needed): byte count, or -1. */
  ssize_t preadAll(int fd) {
    for (;;) {
      ssize_t n = pread(fd, buf_.data(), buf_.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      if (static_cast<size_t>(n) < buf_.size()) return n;
      buf_.resize(buf_.size() * 2);
    }
  }

  int openAt(int dirfd, const char* rel) {
    bool shed = false;
    for (;;) {
      int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd >= 0 || errno == EINTR) {
        if (fd >= 0) return fd;
        continue;
      }
      // Out of descriptors (a budget above RLIMIT_NOFILE, or other readers in this process):
      // give some back once rather than drop the task.
      if ((errno == EMFILE || errno == ENFILE) && !shed && shedDescriptors()) {
        shed = true;
        continue;
      }
      return -1;
    }
  }

  /**
   * Called when open() fails with EMFILE/ENFILE: lowers the budget for good to 7/8 of what is kept
   * now and closes kept files down to it (status first, then schedstat, then stat). Entries stay;
   * their files are reopened as the new budget allows. False when nothing was kept.
   */
  bool shedDescriptors() {
    if (kept_ == 0) return false;
    budget_ = std::min(budget_, static_cast<double>(kept_ - std::max(1L, kept_ / 8)));
    for (int round = 0; round < 3 && static_cast<double>(kept_) > budget_; round++) {
      for (auto& kv : tasks_) {
        if (static_cast<double>(kept_) <= budget_) break;
        TaskEntry& e = kv.second;
        int& fd = round == 0 ? e.statusFd : round == 1 ? e.schedstatFd : e.statFd;
        if (fd == kNoFd) continue;
        if (round == 0 && kv.first != e.pid) nonMainStatusKept_--;
        release(fd);
      }
    }
    for (auto& kv : procs_) {
      if (static_cast<double>(kept_) <= budget_) break;
      release(kv.second.ioFd);
    }
    return true;
  }

  /** Closes a kept descriptor and gives its slot back to the budget. */
  void release(int& fd) {
    if (fd == kNoFd) return;
    close(fd);
    fd = kNoFd;
    kept_--;
  }

  /** Opens and reads a file; keeps the descriptor in `slot` when `keep` and the budget allow. */
  ssize_t freshRead(int dirfd, const char* rel, bool keep, int& slot) {
    int fd = openAt(dirfd, rel);
    if (fd < 0) return -1;
    ssize_t len = preadAll(fd);
    if (len > 0 && keep && static_cast<double>(kept_) < budget_) {
      slot = fd;
      kept_++;
    } else {
      close(fd);
    }
    return len;
  }

  /**
   * Reads a file through its kept descriptor, or opens it (keeping it when allowed). A kept
   * descriptor that fails or reads nothing is stale (its task exited): it is closed, and the file
   * is opened afresh unless `staleFails`.
   */
  ssize_t readSlot(int& slot, int dirfd, const char* rel, bool keep, bool staleFails) {
    if (slot != kNoFd) {
      ssize_t len = preadAll(slot);
      if (len > 0) return len;
      release(slot);
      if (staleFails) return -1;
    }
    return freshRead(dirfd, rel, keep, slot);
  }

  /** Opens, reads and closes a file: byte count in buf_, or -1. */
  ssize_t readOnce(int dirfd, const char* rel) {
    int fd = openAt(dirfd, rel);
    if (fd < 0) return -1;
    ssize_t len = preadAll(fd);
    close(fd);
    return len;
  }

  /** Numeric entries of an open directory (read from its start), ascending; false on error. */
  bool listNumeric(int dirfd, std::vector<int32_t>& out) {
    out.clear();
    for (;;) {
      long n = syscall(SYS_getdents64, dirfd, dents_.data(), dents_.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (n == 0) break;
      for (long off = 0; off < n;) {
        auto* d = reinterpret_cast<LinuxDirent64*>(dents_.data() + off);
        off += d->d_reclen;
        const char* s = d->d_name;
        if (!isDigit(*s)) continue;
        uint64_t v = 0;
        int len = 0;
        while (isDigit(s[len]) && len < 11) v = v * 10 + static_cast<uint64_t>(s[len++] - '0');
        if (s[len] != '\0' || v > 0x7fffffffULL) continue;
        out.push_back(static_cast<int32_t>(v));
      }
    }
    std::sort(out.begin(), out.end());
    return true;
  }

  void closeTask(TaskEntry& e, int32_t tid) {
    if (e.statusFd != kNoFd && tid != e.pid) nonMainStatusKept_--;
    release(e.statFd);
    release(e.schedstatFd);
    release(e.statusFd);
  }

  void closeAll() {
    for (auto& kv : tasks_) closeTask(kv.second, kv.first);
    for (auto& kv : procs_) release(kv.second.ioFd);
    tasks_.clear();
    procs_.clear();
    nonMainStatusKept_ = 0;
  }

  /**
   * A non-main thread's status stays open only while kept + 2 × (tasks in the previous pass) is
   * under budget: stat and schedstat, read every pass, have the better claim to descriptors.
   */
  void trimNonMainStatus() {
    if (nonMainStatusKept_ == 0) return;
    double reserve = 2.0 * static_cast<double>(prevTaskCount_);
    if (static_cast<double>(kept_) + reserve < budget_) return;
    for (auto& kv : tasks_) {
      TaskEntry& e = kv.second;
      if (e.statusFd != kNoFd && kv.first != e.pid) {
        release(e.statusFd);
        nonMainStatusKept_--;
        if (nonMainStatusKept_ == 0 || static_cast<double>(kept_) + reserve < budget_) break;
      }
    }
  }

  // ---- one pass -----------------------------------------------------------------------------

  /** Reads one task into a new row; false when the task is dropped (vanished or unparsable). */
  bool readTask(int taskDir, int32_t pid, int32_t tid, size_t procBase) {
    char path[40];
    size_t base = rows_.size();
    rows_.resize(base + T_COUNT, kNaN);

    auto it = tasks_.find(tid);
    TaskEntry* e = it != tasks_.end() ? &it->second : nullptr;
    ssize_t len = -1;
    if (e != nullptr && e->pid != pid) {
      // A tid lives in one process; under another pid it is another task (only fixtures do this).
      closeTask(*e, tid);
      tasks_.erase(it);
      e = nullptr;
    }
    if (e != nullptr) {
      len = readSlot(e->statFd, taskDir, idPath(path, tid, "stat"), true, true);
      if (len <= 0) {
        // Stale (the task exited; the tid may have been reused) or unreadable: start over.
        closeTask(*e, tid);
        tasks_.erase(it);
        e = nullptr;
      }
    }
    if (e == nullptr) {
      int fd = kNoFd;
      len = freshRead(taskDir, idPath(path, tid, "stat"), true, fd);
      if (len <= 0) {
        rows_.resize(base);
        return false;
      }
      e = &tasks_.emplace(tid, TaskEntry()).first->second;
      e->statFd = fd;
      e->pid = pid;
    }

    double* row = rows_.data() + base;
    StatHead head;
    if (!parseStat(buf_.data(), static_cast<size_t>(len), row, head)) {
      closeTask(*e, tid);
      tasks_.erase(tid);
      rows_.resize(base);
      return false;
    }
    const bool isNew = !(e->starttime == row[T_STARTTIME]);
    if (isNew) {
      // A new task, or a reused tid (different starttime): nothing cached about it holds.
      if (e->statusFd != kNoFd && tid != e->pid) nonMainStatusKept_--;
      release(e->schedstatFd);
      release(e->statusFd);
      e->starttime = row[T_STARTTIME];
      e->runNs = e->vcsw = e->ivcsw = kNaN;
      e->pid = pid;
    }
    e->seenPass = pass_;
    row[T_TID] = tid;
    row[T_PID] = pid;
    stateBytes_.push_back(head.state);
    if (!commHasNul_ && memchr(head.comm, '\0', head.commLen) != nullptr) commHasNul_ = true;
    comm_.append(head.comm, head.commLen);
    commEnds_.push_back(static_cast<uint32_t>(comm_.size()));
    comm_.push_back('\0');

    len = readSlot(e->schedstatFd, taskDir, idPath(path, tid, "schedstat"), true, false);
    if (len > 0) {
      parseSchedstat(buf_.data(), static_cast<size_t>(len), row);
    } else {
      row[T_RUN_NS] = row[T_WAIT_NS] = row[T_TIMESLICES] = kNaN;
    }

    const bool isMain = tid == pid;
    const double runNs = row[T_RUN_NS];
    const bool ran = std::isnan(runNs) || std::isnan(e->runNs) || runNs != e->runNs;
    double* proc = isMain ? procRows_.data() + procBase : nullptr;
    if (isMain || isNew || ran || std::isnan(e->vcsw)) {
      const bool keep = isMain || static_cast<double>(kept_) + 2.0 * static_cast<double>(prevTaskCount_) < budget_;
      const bool hadFd = e->statusFd != kNoFd;
      len = readSlot(e->statusFd, taskDir, idPath(path, tid, "status"), keep, false);
      if (!isMain && hadFd != (e->statusFd != kNoFd)) nonMainStatusKept_ += hadFd ? -1 : 1;
      row = rows_.data() + base;
      if (len > 0 && parseStatus(buf_.data(), static_cast<size_t>(len), row, proc)) {
        e->vcsw = row[T_VCSW];
        e->ivcsw = row[T_IVCSW];
      } else {
        row[T_VCSW] = row[T_IVCSW] = e->vcsw = e->ivcsw = kNaN;
      }
    } else {
      row[T_VCSW] = e->vcsw;
      row[T_IVCSW] = e->ivcsw;
    }
    e->runNs = runNs;
    if (isMain) proc[P_STARTTIME] = row[T_STARTTIME];

    if (detailMode_ == 1 ||
        (detailMode_ == 2 && std::binary_search(detailTids_.begin(), detailTids_.end(), tid))) {
      len = readOnce(taskDir, idPath(path, tid, "io"));
      if (len > 0) parseIo(buf_.data(), static_cast<size_t>(len), row, kTaskIoCols);
      len = readOnce(taskDir, idPath(path, tid, "wchan"));
      size_t wlen = len > 0 ? wchanLength(buf_.data(), static_cast<size_t>(len)) : 0;
      if (wlen > 0) {
        wchanRows_.push_back(static_cast<int32_t>(base / T_COUNT));
        wchanValues_.emplace_back(buf_.data(), wlen);
      }
    }
    return true;
  }

  /** Reads every process under the root into rows_ / procRows_. */
  void readPass() {
    int rootFd = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootFd < 0) return;
    if (!listNumeric(rootFd, pids_)) pids_.clear();
    char path[40];
    for (int32_t pid : pids_) {
      int taskDir;
      do taskDir = openat(rootFd, idPath(path, pid, "task"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      while (taskDir < 0 && errno == EINTR);
      if (taskDir < 0) continue;
      bool ok = listNumeric(taskDir, tids_);
      if (!ok || tids_.empty()) {
        close(taskDir);
        continue;
      }
      size_t procBase = procRows_.size();
      procRows_.resize(procBase + P_COUNT, kNaN);
      size_t rowsBefore = rows_.size();
      for (int32_t tid : tids_) readTask(taskDir, pid, tid, procBase);
      close(taskDir);
      if (rows_.size() == rowsBefore) {
        procRows_.resize(procBase);
        continue;
      }
      double* proc = procRows_.data() + procBase;
      proc[P_PID] = pid;
      ProcEntry& pe = procs_[pid];
      pe.seenPass = pass_;
      ssize_t len = readSlot(pe.ioFd, rootFd, idPath(path, pid, "io"), true, false);
      proc = procRows_.data() + procBase;
      if (len > 0) parseIo(buf_.data(), static_cast<size_t>(len), proc, kProcIoCols);
    }
    close(rootFd);
  }

  /** Closes the files of tasks and processes not seen in this pass. */
  void forgetUnseen(size_t taskCount, size_t procCount) {
    if (tasks_.size() != taskCount) {
      for (auto it = tasks_.begin(); it != tasks_.end();) {
        if (it->second.seenPass != pass_) {
          closeTask(it->second, it->first);
          it = tasks_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (procs_.size() != procCount) {
      for (auto it = procs_.begin(); it != procs_.end();) {
        if (it->second.seenPass != pass_) {
          release(it->second.ioFd);
          it = procs_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  // ---- JS surface ---------------------------------------------------------------------------

  /** read(mode: 0 none | 1 all | 2 set, tids?: Int32Array) → raw columns (see index.ts). */
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const double monoNs = static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);

    detailMode_ = info.Length() >= 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    detailTids_.clear();
    if (detailMode_ == 2) {
      if (info.Length() >= 2 && info[1].IsTypedArray() &&
          info[1].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
        Napi::Int32Array set = info[1].As<Napi::Int32Array>();
        detailTids_.assign(set.Data(), set.Data() + set.ElementLength());
        std::sort(detailTids_.begin(), detailTids_.end());
      }
      if (detailTids_.empty()) detailMode_ = 0;
    }

    pass_++;
    rows_.clear();
    procRows_.clear();
    stateBytes_.clear();
    comm_.clear();
    commEnds_.clear();
    commHasNul_ = false;
    wchanRows_.clear();
    wchanValues_.clear();

    trimNonMainStatus();
    readPass();
    const size_t n = rows_.size() / T_COUNT;
    const size_t np = procRows_.size() / P_COUNT;
    forgetUnseen(n, np);
    prevTaskCount_ = n;

    Napi::Object out = Napi::Object::New(env);
    out.Set("monoNs", Napi::Number::New(env, monoNs));
    out.Set("taskCount", Napi::Number::New(env, static_cast<double>(n)));
    out.Set("procCount", Napi::Number::New(env, static_cast<double>(np)));

    Napi::Array taskCols = Napi::Array::New(env, T_COUNT);
    for (int c = 0; c < T_COUNT; c++) {
      Napi::Float64Array col = Napi::Float64Array::New(env, n);
      double* dst = col.Data();
      const double* src = rows_.data() + c;
      for (size_t r = 0; r < n; r++) dst[r] = src[r * T_COUNT];
      taskCols.Set(static_cast<uint32_t>(c), col);
    }
    out.Set("taskColumns", taskCols);
    Napi::Array procCols = Napi::Array::New(env, P_COUNT);
    for (int c = 0; c < P_COUNT; c++) {
      Napi::Float64Array col = Napi::Float64Array::New(env, np);
      double* dst = col.Data();
      const double* src = procRows_.data() + c;
      for (size_t r = 0; r < np; r++) dst[r] = src[r * P_COUNT];
      procCols.Set(static_cast<uint32_t>(c), col);
    }
    out.Set("procColumns", procCols);

    // One state character per task: bytes as Latin-1, like String.fromCharCode(byte).
    napi_value state;
    napi_create_string_latin1(env, stateBytes_.data(), stateBytes_.size(), &state);
    out.Set("state", Napi::Value(env, state));

    // comm: one string, NUL-separated (a kernel comm never holds NUL); per-task strings otherwise.
    if (!commHasNul_) {
      size_t joinedLen = comm_.empty() ? 0 : comm_.size() - 1;
      out.Set("comm", Napi::String::New(env, comm_.data(), joinedLen));
    } else {
      Napi::Array arr = Napi::Array::New(env, n);
      size_t start = 0;
      for (size_t i = 0; i < n; i++) {
        arr.Set(static_cast<uint32_t>(i), Napi::String::New(env, comm_.data() + start, commEnds_[i] - start));
        start = commEnds_[i] + 1;
      }
      out.Set("comm", arr);
    }

    if (!wchanRows_.empty()) {
      Napi::Int32Array rows = Napi::Int32Array::New(env, wchanRows_.size());
      memcpy(rows.Data(), wchanRows_.data(), wchanRows_.size() * sizeof(int32_t));
      Napi::Array values = Napi::Array::New(env, wchanValues_.size());
      for (size_t i = 0; i < wchanValues_.size(); i++)
        values.Set(static_cast<uint32_t>(i), Napi::String::New(env, wchanValues_[i]));
      out.Set("wchanRows", rows);
      out.Set("wchanValues", values);
    }
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closeAll();
    prevTaskCount_ = 0;
    return info.Env().Undefined();
  }

  /** Number of descriptors currently kept open (for tests and diagnostics). */
  Napi::Value KeptFds(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(kept_));
  }

  std::string root_;
  double budget_ = 0;
  long kept_ = 0;
  long nonMainStatusKept_ = 0;
  uint32_t pass_ = 0;
  size_t prevTaskCount_ = 0;
  std::unordered_map<int32_t, TaskEntry> tasks_;
  std::unordered_map<int32_t, ProcEntry> procs_;

  int detailMode_ = 0;
  std::vector<int32_t> detailTids_;

  std::vector<char> buf_;
  std::vector<char> dents_;
  std::vector<int32_t> pids_;
  std::vector<int32_t> tids_;
  std::vector<double> rows_;
  std::vector<double> procRows_;
  std::string stateBytes_;
  std::string comm_;
  std::vector<uint32_t> commEnds_;
  bool commHasNul_ = false;
  std::vector<int32_t> wchanRows_;
  std::vector<std::string> wchanValues_;
};

Napi::Value HostConstants(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("clkTck", Napi::Number::New(env, static_cast<double>(sysconf(_SC_CLK_TCK))));
  out.Set("pageSizeBytes", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  out.Set("cpuCount", Napi::Number::New(env, static_cast<double>(sysconf(_SC_NPROCESSORS_CONF))));
  return out;
}

// Returns the allocator's free memory to the system (glibc's malloc_trim); false where there is none.
Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("TaskReader", Reader::Define(env));
  exports.Set("mallocTrim", Napi::Function::New<MallocTrim>(env, "mallocTrim"));
  exports.Set("hostConstants", Napi::Function::New<HostConstants>(env, "hostConstants"));
  Napi::Array taskNames = Napi::Array::New(env, T_COUNT);
  for (int i = 0; i < T_COUNT; i++) taskNames.Set(static_cast<uint32_t>(i), kTaskColNames[i]);
  Napi::Array procNames = Napi::Array::New(env, P_COUNT);
  for (int i = 0; i < P_COUNT; i++) procNames.Set(static_cast<uint32_t>(i), kProcColNames[i]);
  exports.Set("taskColumns", taskNames);
  exports.Set("procColumns", procNames);
  RegisterBpf(env, exports);
  RegisterPerf(env, exports);
  return exports;
}

}  // namespace
}  // namespace whytop

static Napi::Object InitWhytopNative(Napi::Env env, Napi::Object exports) { return whytop::Init(env, exports); }

NODE_API_MODULE(whytop_native, InitWhytopNative)
