// Keeps a long-running whytop's resident size near what it really holds. Each sample leaves
// garbage behind (the previous snapshot's columns, frames, encoded history records); V8 collects
// it only when its own heuristics say so, and glibc keeps freed memory mapped. With 10000 threads
// that lets the process grow to about twice its live size between collections. Instead, after a
// refresh (in the idle time before the next one) the keeper runs a full collection once the heap
// and the memory outside it have grown by a set share since the last one, then hands the
// allocator's free pages back to the system.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimNativeHeap } from './native/index.js';

/** Growth over the size left by the last collection that triggers the next one: a share of it… */
const GROWTH_SHARE = 0.25;
/** …but at least this many bytes: below a few thousand threads V8 collects in time by itself, and forcing it there costs CPU for nothing. */
const MIN_GROWTH_BYTES = 32 * 1024 * 1024;

/** V8's full-collection function, exposed without a command-line flag; null where that fails. */
function exposedGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

/** Bytes held by JavaScript: the V8 heap in use plus ArrayBuffers and other external memory. */
function heldBytes(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

/** Collects garbage when it has piled up (see the file comment). */
export class MemoryKeeper {
  private readonly gc = exposedGc();
  private limitBytes = 0;

  /** Called after each refresh: collects and trims when the held bytes passed the limit. */
  afterRefresh(): void {
    if (this.gc === null || heldBytes() < this.limitBytes) return;
    this.gc();
    trimNativeHeap();
    const left = heldBytes();
    this.limitBytes = left + Math.max(MIN_GROWTH_BYTES, left * GROWTH_SHARE);
  }
}
