// Benchmark harness: a process with N threads of a given shape, for the task readers to read.
//
//   harness N idle|busy
//
//   idle  each thread wakes once a minute (like most real thread pools) and goes back to sleep;
//   busy  each thread wakes every second and spins for a few microseconds.
//
// Wake-ups are staggered evenly over the period (thread i wakes at offset i*period/N), so the
// threads never wake in lockstep. Stacks are 64 KiB, so 10000 threads need ~640 MiB of address
// space but only a few pages each of memory.
//
// Prints "ready <pid>" on stdout once every thread exists. Exits on SIGTERM (default action), when
// stdin reaches end of file (the driver died or closed it), or when the parent dies.
//
// Build: cc -O2 -pthread -o harness harness.c
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)
#define NS_PER_S 1000000000LL
#define SPIN_NS 3000 /* busy: on-CPU work per wake-up */

struct shape {
  int64_t period_ns;
  int64_t spin_ns;
};

static struct shape g_shape;
static struct timespec g_start; /* CLOCK_MONOTONIC when thread creation began */
static long g_count;
static volatile uint64_t g_sink;

static int64_t ts_ns(const struct timespec *ts) { return (int64_t)ts->tv_sec * NS_PER_S + ts->tv_nsec; }

static struct timespec ns_ts(int64_t ns) {
  struct timespec ts = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S};
  return ts;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts_ns(&ts);
}

static void spin(int64_t ns) {
  int64_t until = now_ns() + ns;
  uint64_t x = g_sink;
  while (now_ns() < until) {
    for (int i = 0; i < 64; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  g_sink = x;
}

static void *worker(void *arg) {
  long index = (long)arg;
  int64_t period = g_shape.period_ns;
  /* First wake-up: this thread's share of the first period, so the steady state (N/period wake-ups
     per second, evenly spread) holds from the start. */
  int64_t next = ts_ns(&g_start) + (int64_t)((double)period * (double)index / (double)g_count);
  for (;;) {
    struct timespec ts = ns_ts(next);
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR) {
    }
    if (rc != 0) {
      fprintf(stderr, "harness: clock_nanosleep: %s\n", strerror(rc));
      exit(1);
    }
    if (g_shape.spin_ns > 0) spin(g_shape.spin_ns);
    next += period;
    int64_t now = now_ns();
    if (next < now) next += ((now - next) / period + 1) * period; /* fell behind: skip, keep the phase */
  }
  return NULL;
}

static void usage(void) {
  fprintf(stderr, "usage: harness N idle|busy\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc != 3) usage();
  char *end;
  long n = strtol(argv[1], &end, 10);
  if (*end != '\0' || n < 0 || n > 1000000) usage();
  if (strcmp(argv[2], "idle") == 0) {
    g_shape.period_ns = 60 * NS_PER_S;
    g_shape.spin_ns = 0;
  } else if (strcmp(argv[2], "busy") == 0) {
    g_shape.period_ns = NS_PER_S;
    g_shape.spin_ns = SPIN_NS;
  } else {
    usage();
  }
  g_count = n > 0 ? n : 1;

  /* Die with the driver even if it is killed with SIGKILL. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 0;

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  size_t stack = STACK_SIZE < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN : STACK_SIZE;
  int rc = pthread_attr_setstacksize(&attr, stack);
  if (rc != 0) {
    fprintf(stderr, "harness: pthread_attr_setstacksize: %s\n", strerror(rc));
    return 1;
  }
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

  clock_gettime(CLOCK_MONOTONIC, &g_start);
  for (long i = 0; i < n; i++) {
    pthread_t t;
    rc = pthread_create(&t, &attr, worker, (void *)i);
    if (rc != 0) {
      fprintf(stderr, "harness: pthread_create (thread %ld of %ld): %s\n", i + 1, n, strerror(rc));
      return 1;
    }
  }
  pthread_attr_destroy(&attr);

  printf("ready %ld\n", (long)getpid());
  fflush(stdout);

  /* Wait for stdin to close; SIGTERM ends the process through its default action. */
  char buf[256];
  for (;;) {
    ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
    if (got == 0) break;
    if (got < 0 && errno != EINTR) break;
  }
  return 0;
}
