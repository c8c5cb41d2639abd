// Benchmark workload: a tight syscall loop (getppid), the cheapest syscall, for a given time.
// Prints the calls per second it managed. Any probe on the syscall path shows up here first.
//
//   sysloop MS
//
// Build: cc -O2 -o sysloop sysloop.c
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double seconds = (argc > 1 ? atof(argv[1]) : 2000) / 1000;
  double start = now();
  double end = start + seconds;
  long calls = 0;
  for (;;) {
    for (int i = 0; i < 10000; i++) syscall(SYS_getppid);
    calls += 10000;
    if (now() >= end) break;
  }
  printf("%.0f\n", calls / (now() - start));
  return 0;
}
