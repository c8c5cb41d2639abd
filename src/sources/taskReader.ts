// The per-task reader contract. Three implementations fulfil it: the native addon (src/native) and
// its TypeScript twin (tsTaskReader.ts), which read /proc (test/sources/taskReaderContract.test.ts
// runs against both), and the BPF task iterator (bpfTaskReader.ts), which reads the kernel's task
// structs directly and is checked against them on the live machine (test/sources/bpfTaskReader.test.ts).
import type { TaskBackend, TaskSample } from '../model/snapshot.js';

/** Which tasks get the files that are read only where shown (per-thread io, wchan). */
export type DetailSelection = ReadonlySet<number> | 'all' | 'none';

/**
 * Reads every task under a proc root in one call.
 *
 * Per pass: `stat` and `schedstat` of every thread; `status` of the main thread of every process
 * (memory is per process, and it holds the main thread's switch counts) and of every other thread
 * whose schedstat on-CPU time moved since the previous pass (or that is new); `/proc/PID/io` of
 * every process; per-thread `io` and `wchan` only for the threads in `detail`.
 * A task that vanishes mid-read is dropped from the pass; a file that is not permitted gives NaN.
 * Files stay open between passes (re-read with pread) within a file-descriptor budget.
 * The BPF reader gets all of that but wchan in one read, so it fills every thread's io.
 */
export interface TaskReader {
  readonly backend: TaskBackend;
  /** Reads one pass. cmdline and cgroup columns are left null (the sampler fills them from its cache). */
  read(detail: DetailSelection): TaskSample;
  /** Closes every file the reader keeps open. */
  close(): void;
}
