// Byte-level parsers for the per-task /proc files, writing straight into rows of doubles.
// They mirror src/sources/taskFiles.ts number for number (same field rules, same NaN cases, same
// double arithmetic), because a contract test compares the two readers field by field.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace whytop {

constexpr double kNaN = __builtin_nan("");

/** Per-task numeric columns, in the order of TASK_NUMERIC_COLUMNS (src/model/snapshot.ts). */
enum TaskCol {
  T_TID,
  T_PID,
  T_PPID,
  T_STARTTIME,
  T_UTIME,
  T_STIME,
  T_MINFLT,
  T_MAJFLT,
  T_PROCESSOR,
  T_PRIORITY,
  T_NICE,
  T_VSIZE,
  T_RSS,
  T_RUN_NS,
  T_WAIT_NS,
  T_TIMESLICES,
  T_VCSW,
  T_IVCSW,
  T_RCHAR,
  T_WCHAR,
  T_SYSCR,
  T_SYSCW,
  T_READ_BYTES,
  T_WRITE_BYTES,
  T_OFFCPU_D_NS,
  T_SYSCALLS,
  T_COUNT
};

/** Per-process numeric columns, in the order of PROC_NUMERIC_COLUMNS (src/model/snapshot.ts). */
enum ProcCol {
  P_PID,
  P_STARTTIME,
  P_UID,
  P_VMSIZE,
  P_RSS_ANON,
  P_RSS_FILE,
  P_RSS_SHMEM,
  P_VMSWAP,
  P_RCHAR,
  P_WCHAR,
  P_SYSCR,
  P_SYSCW,
  P_READ_BYTES,
  P_WRITE_BYTES,
  P_CANCELLED_WRITE_BYTES,
  P_COUNT
};

/** Column names, checked against snapshot.ts by the loader so a layout drift fails loudly. */
inline const char* const kTaskColNames[T_COUNT] = {
    "tid",   "pid",      "ppid",           "starttimeTicks", "utimeTicks", "stimeTicks", "minflt", "majflt", "processor",
    "priority", "nice",  "vsizeBytes",     "rssPages",   "runNs",      "waitNs", "timeslices", "vcsw",
    "ivcsw", "rchar",    "wchar",          "syscr",      "syscw",      "readBytes", "writeBytes",
    "offcpuDNs", "syscalls"};
inline const char* const kProcColNames[P_COUNT] = {
    "pid",       "starttimeTicks", "uid",   "vmSizeKb", "rssAnonKb", "rssFileKb", "rssShmemKb",
    "vmSwapKb",  "rchar",          "wchar", "syscr",    "syscw",     "readBytes", "writeBytes",
    "cancelledWriteBytes"};

inline bool isDigit(char c) { return static_cast<unsigned char>(c - '0') <= 9; }

/**
 * The optionally negative decimal integer starting at p (digits up to the first non-digit), or NaN
 * when p holds no digit. Accumulates like the TypeScript twin (value * 10 + digit in doubles); the
 * first 15 digits go through an integer, which is exact and therefore gives the same double.
 */
inline double intAt(const char* p, const char* end) {
  bool negative = false;
  if (p < end && *p == '-') {
    negative = true;
    ++p;
  }
  if (p >= end || !isDigit(*p)) return kNaN;
  uint64_t whole = 0;
  int digits = 0;
  while (p < end && digits < 15 && isDigit(*p)) {
    whole = whole * 10 + static_cast<uint64_t>(*p - '0');
    ++p;
    ++digits;
  }
  double value = static_cast<double>(whole);
  while (p < end && isDigit(*p)) {
    value = value * 10 + static_cast<double>(*p - '0');
    ++p;
  }
  return negative ? -value : value;
}

// Field positions after the last ')' of a stat line (0 = state, field 3 of proc(5)).
constexpr int kStatPpid = 1;
constexpr int kStatMinflt = 7;
constexpr int kStatMajflt = 9;
constexpr int kStatUtime = 11;
constexpr int kStatStime = 12;
constexpr int kStatPriority = 15;
constexpr int kStatNice = 16;
constexpr int kStatStarttime = 19;
constexpr int kStatVsize = 20;
constexpr int kStatRss = 21;
constexpr int kStatProcessor = 36;

/** What a stat line gives besides numbers: the state byte and where comm's bytes are. */
struct StatHead {
  char state;
  const char* comm;
  size_t commLen;
};

/**
 * Parses task/TID/stat into `row` (T_COUNT doubles, NaN beforehand). comm lies between the first
 * '(' and the last ')'. Fields after it are separated by spaces or newlines. Returns false (drop
 * the task) without a '(' and a later ')', without a state, or without a starttime.
 */
inline bool parseStat(const char* buf, size_t len, double* row, StatHead& head) {
  const char* end = buf + len;
  const char* open = static_cast<const char*>(memchr(buf, '(', len));
  if (open == nullptr) return false;
  const char* close = static_cast<const char*>(memrchr(open + 1, ')', static_cast<size_t>(end - (open + 1))));
  if (close == nullptr) return false;
  const char* p = close + 1;
  int field = -1;
  bool haveState = false;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\n')) ++p;
    if (p >= end) break;
    ++field;
    if (field == 0) {
      head.state = *p;
      haveState = true;
    } else {
      switch (field) {
        case kStatPpid: row[T_PPID] = intAt(p, end); break;
        case kStatMinflt: row[T_MINFLT] = intAt(p, end); break;
        case kStatMajflt: row[T_MAJFLT] = intAt(p, end); break;
        case kStatUtime: row[T_UTIME] = intAt(p, end); break;
        case kStatStime: row[T_STIME] = intAt(p, end); break;
        case kStatPriority: row[T_PRIORITY] = intAt(p, end); break;
        case kStatNice: row[T_NICE] = intAt(p, end); break;
        case kStatStarttime: row[T_STARTTIME] = intAt(p, end); break;
        case kStatVsize: row[T_VSIZE] = intAt(p, end); break;
        case kStatRss: row[T_RSS] = intAt(p, end); break;
        case kStatProcessor: row[T_PROCESSOR] = intAt(p, end); break;
        default: break;
      }
      if (field == kStatProcessor) break;
    }
    while (p < end && *p != ' ' && *p != '\n') ++p;
  }
  if (!haveState || std::isnan(row[T_STARTTIME])) return false;
  head.comm = open + 1;
  head.commLen = static_cast<size_t>(close - (open + 1));
  return true;
}

/** Parses task/TID/schedstat ("runNs waitNs timeslices"); all three NaN unless all three parse. */
inline void parseSchedstat(const char* buf, size_t len, double* row) {
  const char* end = buf + len;
  const char* p = buf;
  double values[3];
  bool ok = true;
  for (int i = 0; i < 3; i++) {
    while (p < end && *p == ' ') ++p;
    values[i] = intAt(p, end);
    if (std::isnan(values[i])) ok = false;
    while (p < end && *p != ' ' && *p != '\n') ++p;
  }
  row[T_RUN_NS] = ok ? values[0] : kNaN;
  row[T_WAIT_NS] = ok ? values[1] : kNaN;
  row[T_TIMESLICES] = ok ? values[2] : kNaN;
}

/**
 * Calls visit(keyStart, keyLen, value) for each "Key:<spaces/tabs>value" line (lines without a
 * ':' are skipped); value parsing runs to the end of the buffer but stops at the first non-digit.
 */
template <class Visit>
inline void forEachKeyLine(const char* buf, size_t len, Visit&& visit) {
  const char* end = buf + len;
  const char* line = buf;
  while (line < end) {
    const char* colon = line;
    while (colon < end && *colon != ':' && *colon != '\n') ++colon;
    const char* lineEnd = colon;
    if (colon < end && *colon == ':') {
      const char* nl = static_cast<const char*>(memchr(colon, '\n', static_cast<size_t>(end - colon)));
      lineEnd = nl != nullptr ? nl : end;
    }
    if (colon < lineEnd) {
      const char* value = colon + 1;
      while (value < lineEnd && (*value == ' ' || *value == '\t')) ++value;
      visit(line, static_cast<size_t>(colon - line), value);
    }
    line = lineEnd + 1;
  }
}

inline bool keyIs(const char* key, size_t keyLen, const char* want, size_t wantLen) {
  return keyLen == wantLen && memcmp(key, want, wantLen) == 0;
}
#define WHYTOP_KEY(key, keyLen, lit) keyIs(key, keyLen, lit, sizeof(lit) - 1)

/**
 * Parses task/TID/status: the switch counters into the task row and, when `proc` is not null (the
 * main thread), Uid and the memory lines into the process row. True when both switch lines exist.
 */
inline bool parseStatus(const char* buf, size_t len, double* task, double* proc) {
  const char* end = buf + len;
  int found = 0;
  forEachKeyLine(buf, len, [&](const char* k, size_t kl, const char* v) {
    const char first = *k;
    if (first == 'v' && WHYTOP_KEY(k, kl, "voluntary_ctxt_switches")) {
      task[T_VCSW] = intAt(v, end);
      found++;
    } else if (first == 'n' && WHYTOP_KEY(k, kl, "nonvoluntary_ctxt_switches")) {
      task[T_IVCSW] = intAt(v, end);
      found++;
    } else if (proc != nullptr) {
      if (first == 'U' && WHYTOP_KEY(k, kl, "Uid")) proc[P_UID] = intAt(v, end);
      else if (first == 'V' && WHYTOP_KEY(k, kl, "VmSize")) proc[P_VMSIZE] = intAt(v, end);
      else if (first == 'V' && WHYTOP_KEY(k, kl, "VmSwap")) proc[P_VMSWAP] = intAt(v, end);
      else if (first == 'R' && WHYTOP_KEY(k, kl, "RssAnon")) proc[P_RSS_ANON] = intAt(v, end);
      else if (first == 'R' && WHYTOP_KEY(k, kl, "RssFile")) proc[P_RSS_FILE] = intAt(v, end);
      else if (first == 'R' && WHYTOP_KEY(k, kl, "RssShmem")) proc[P_RSS_SHMEM] = intAt(v, end);
    }
  });
  return found == 2;
}

/**
 * Parses an io file (/proc/PID/io or task/TID/io) into a row. `cols` maps the seven keys
 * (rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled_write_bytes) to column indexes;
 * -1 skips a key (a task row has no cancelled_write_bytes column).
 */
inline void parseIo(const char* buf, size_t len, double* row, const int* cols) {
  const char* end = buf + len;
  forEachKeyLine(buf, len, [&](const char* k, size_t kl, const char* v) {
    int key = -1;
    switch (*k) {
      case 'r':
        if (WHYTOP_KEY(k, kl, "rchar")) key = 0;
        else if (WHYTOP_KEY(k, kl, "read_bytes")) key = 4;
        break;
      case 'w':
        if (WHYTOP_KEY(k, kl, "wchar")) key = 1;
        else if (WHYTOP_KEY(k, kl, "write_bytes")) key = 5;
        break;
      case 's':
        if (WHYTOP_KEY(k, kl, "syscr")) key = 2;
        else if (WHYTOP_KEY(k, kl, "syscw")) key = 3;
        break;
      case 'c':
        if (WHYTOP_KEY(k, kl, "cancelled_write_bytes")) key = 6;
        break;
      default: break;
    }
    if (key >= 0 && cols[key] >= 0) row[cols[key]] = intAt(v, end);
  });
}
#undef WHYTOP_KEY

constexpr int kTaskIoCols[7] = {T_RCHAR, T_WCHAR, T_SYSCR, T_SYSCW, T_READ_BYTES, T_WRITE_BYTES, -1};
constexpr int kProcIoCols[7] = {P_RCHAR, P_WCHAR, P_SYSCR, P_SYSCW, P_READ_BYTES, P_WRITE_BYTES,
                                P_CANCELLED_WRITE_BYTES};

/** Length of a wchan value after trimming trailing newlines/spaces; 0 means null ("0" or empty). */
inline size_t wchanLength(const char* buf, size_t len) {
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) len--;
  if (len == 1 && buf[0] == '0') return 0;
  return len;
}

}  // namespace whytop
