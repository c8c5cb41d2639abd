// The "floor": the least work any per-thread reader must do, as a reference for the real readers.
//
//   floor PROCROOT PASSES INTERVAL_MS
//
// Each pass lists PROCROOT and every PROCROOT/PID/task directory and, for every thread of every
// process, opens, reads and closes task/TID/stat, task/TID/status and task/TID/schedstat. Nothing
// is parsed or kept. For each pass it prints one line:
//
//   <cpu ms> <tasks read> <wall ms>
//
// where cpu ms is this process's user + system CPU time over the pass (getrusage RUSAGE_SELF), so
// process start-up is never counted. Passes are INTERVAL_MS apart (start to start).
//
// With INTERVAL_MS "-" the floor instead waits for a line on stdin before each pass (the benchmark
// driver uses this to interleave floor passes with its in-process readers); PASSES 0 then means
// "until stdin closes". A task that vanishes mid-pass is skipped.
//
// Build: cc -O2 -o floor floor.c
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static char g_buf[16384];

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int is_number(const char *s) {
  if (*s == '\0') return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* Opens dirfd/path, reads it to the end, closes it. Returns 0, or -1 if it could not be opened. */
static int slurp(int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t got;
  /* One read takes the whole file unless it fills the buffer. */
  while ((got = read(fd, g_buf, sizeof g_buf)) == (ssize_t)sizeof g_buf) {
  }
  close(fd);
  return got < 0 ? -1 : 0;
}

/* One pass; returns the number of tasks whose three files were all read. */
static long pass(const char *root) {
  static const char *const files[] = {"stat", "status", "schedstat"};
  long tasks = 0;
  DIR *procs = opendir(root);
  if (!procs) {
    fprintf(stderr, "floor: %s: %s\n", root, strerror(errno));
    exit(1);
  }
  int rootfd = dirfd(procs);
  struct dirent *p;
  char path[320];
  while ((p = readdir(procs)) != NULL) {
    if (!is_number(p->d_name)) continue;
    snprintf(path, sizeof path, "%s/task", p->d_name);
    int taskfd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (taskfd < 0) continue; /* the process exited */
    DIR *threads = fdopendir(taskfd);
    if (!threads) {
      close(taskfd);
      continue;
    }
    struct dirent *t;
    while ((t = readdir(threads)) != NULL) {
      if (!is_number(t->d_name)) continue;
      int ok = 1;
      for (int i = 0; i < 3 && ok; i++) {
        snprintf(path, sizeof path, "%s/%s", t->d_name, files[i]);
        if (slurp(taskfd, path) < 0) ok = 0;
      }
      tasks += ok;
    }
    closedir(threads);
  }
  closedir(procs);
  return tasks;
}

static void usage(void) {
  fprintf(stderr, "usage: floor PROCROOT PASSES INTERVAL_MS|-\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc != 4) usage();
  const char *root = argv[1];
  char *end;
  long passes = strtol(argv[2], &end, 10);
  if (*end != '\0' || passes < 0) usage();
  int on_stdin = strcmp(argv[3], "-") == 0;
  long interval = 0;
  if (!on_stdin) {
    interval = strtol(argv[3], &end, 10);
    if (*end != '\0' || interval < 0) usage();
    if (passes == 0) usage();
  }

  double next = now_ms();
  char line[256];
  for (long i = 0; passes == 0 || i < passes; i++) {
    if (on_stdin) {
      if (!fgets(line, sizeof line, stdin)) break;
    } else if (i > 0) {
      next += (double)interval;
      double wait = next - now_ms();
      if (wait > 0) {
        struct timespec ts = {.tv_sec = (time_t)(wait / 1e3), .tv_nsec = (long)((wait - (double)(long)(wait / 1e3) * 1e3) * 1e6)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
      } else {
        next = now_ms();
      }
    }
    double w0 = now_ms();
    double c0 = cpu_ms();
    long tasks = pass(root);
    double c1 = cpu_ms();
    double w1 = now_ms();
    printf("%.3f %ld %.3f\n", c1 - c0, tasks, w1 - w0);
    fflush(stdout);
  }
  return 0;
}
