// Reads a recording: builds a chunk index by hopping from chunk header to chunk header (never reading
// the whole file), notes what is damaged, and decodes samples on demand with a small cache of chunks.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Snapshot } from '../model/snapshot.js';
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  ChunkSamples,
  decodeChunkHeader,
  decodeFileHeader,
  FILE_HEADER_MAX_BYTES,
  hasChunkMagic,
  MAX_CHUNK_BYTES,
  RecordingError,
  walkFramesIn,
  type RecordingHeader,
} from './format.js';

/** A stretch of the file that holds no readable samples. */
export interface Damage {
  offset: number;
  bytes: number;
  what: string;
}

/** One chunk with readable samples. */
export interface ChunkInfo {
  /** Offset of the chunk header. */
  offset: number;
  /** Bytes of its intact frames (all of them for a closed chunk not checked frame by frame). */
  bodyBytes: number;
  /** Decompressed bytes of those frames. */
  recordBytes: number;
  count: number;
  firstWallMs: number;
  lastWallMs: number;
  /** False for a chunk still being written, or left open by a crash, or whose header is damaged. */
  closed: boolean;
}

/** What scanning a recording found. */
export interface Scan {
  header: RecordingHeader;
  chunks: ChunkInfo[];
  damage: Damage[];
  /** Offset just after the last intact chunk or frame: everything after it is damage. */
  intactEnd: number;
  fileBytes: number;
  /** Bytes read from the file while scanning: a few times fileBytes at most, whatever the file holds. */
  readBytes: number;
  /** Bytes checksummed as frames while scanning: likewise bounded by a few times fileBytes. */
  checkedBytes: number;
}

/** How to open a recording. */
export interface OpenOptions {
  /** Called now and then with bytes scanned so far and the file size. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Check every frame's checksum while opening (reads the whole file), so counts are exact up front. */
  verify?: boolean;
}

/** Bytes a search for the chunk magic reads at a time. */
const SEARCH_BLOCK_BYTES = 1024 * 1024;
/** Bytes read ahead with a chunk header (a little: hopping from header to header must not read the bodies). */
const HEADER_AHEAD_BYTES = 4096;
/** Bytes read ahead when walking the frames of a chunk. */
const WALK_AHEAD_BYTES = 256 * 1024;
/** Bytes scanned between two progress reports. */
const PROGRESS_STEP_BYTES = 4 * 1024 * 1024;
/** Bytes a file window keeps before a request that makes it read on. */
const KEEP_BEHIND_BYTES = 64;
const CACHED_CHUNKS = 2;
const UNREADABLE = 'unreadable bytes (torn write or corruption)';
/** Damage entries after which adjacent stretches of different kinds are merged. */
const MAX_DAMAGE_ENTRIES = 100;
const ZERO_BLOCK = Buffer.alloc(SEARCH_BLOCK_BYTES);

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/**
 * A file read through one buffer: a request inside what was read last costs nothing, one that
 * overlaps its end reads only the bytes past it. Buffers handed out are never written to again.
 */
class FileWindow {
  private buf = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly fd: number,
    private readonly fileBytes: number,
    /** Counts the bytes read from the file. */
    private readonly onRead: (bytes: number) => void,
  ) {}

  /** Bytes [offset, offset + length), fewer at the end of the file; reads `aheadBytes` more when it must read. */
  get(offset: number, length: number, aheadBytes = 0): Buffer {
    const end = Math.min(offset + length, this.fileBytes);
    const held = this.start + this.buf.length;
    if (offset >= this.start && end <= held) return this.buf.subarray(offset - this.start, end - this.start);
    // Keep what overlaps, and a few bytes before the request: the next chunk header searched for may start there.
    const overlaps = offset >= this.start && offset < held;
    const start = overlaps ? Math.max(this.start, offset - KEEP_BEHIND_BYTES) : offset;
    const want = Math.max(0, Math.min(this.fileBytes, Math.max(end, offset + aheadBytes)) - start);
    const next = Buffer.allocUnsafe(want);
    let have = overlaps ? this.buf.copy(next, 0, start - this.start) : 0;
    while (have < want) {
      const n = readSync(this.fd, next, have, want - have, start + have);
      if (n === 0) break;
      this.onRead(n);
      have += n;
    }
    this.buf = next.subarray(0, have);
    this.start = start;
    return this.buf.subarray(Math.min(have, offset - start), Math.max(0, Math.min(have, end - start)));
  }
}

/**
 * Finds chunk magics with one forward pass: remembers the last stretch searched, so that asking again
 * anywhere inside it reads nothing, and whether that stretch held only zero bytes.
 */
class MagicFinder {
  /** No magic starts in [from, hit); hit is a magic's offset or the file size. */
  private from = -1;
  private hit = -1;
  /** Offset of the last non-zero byte in [from, hit), or -1. */
  private lastNonZero = -1;

  constructor(
    private readonly window: FileWindow,
    private readonly fileBytes: number,
    private readonly progress: (doneBytes: number) => void,
  ) {}

  /** The offset of the first chunk magic at or after `at` (the file size when none), and whether the bytes before it are all zero. */
  next(at: number): { next: number; zeros: boolean } {
    if (!(at >= this.from && at <= this.hit)) this.search(at);
    return { next: this.hit, zeros: this.lastNonZero < at };
  }

  private search(at: number): void {
    this.from = at;
    this.hit = this.fileBytes;
    this.lastNonZero = -1;
    // Whole blocks at multiples of the block size (each with the magic's length more, for a magic
    // across the boundary), so that searches from nearby offsets share one read.
    const blockBytes = SEARCH_BLOCK_BYTES + CHUNK_MAGIC.length - 1;
    for (let blockStart = at - (at % SEARCH_BLOCK_BYTES); blockStart < this.fileBytes; blockStart += SEARCH_BLOCK_BYTES) {
      this.progress(blockStart);
      const block = this.window.get(blockStart, blockBytes, blockBytes);
      const from = Math.max(0, at - blockStart);
      const i = block.indexOf(CHUNK_MAGIC, from);
      const end = i >= 0 ? i : Math.min(SEARCH_BLOCK_BYTES, block.length);
      if (end > from && (block[end - 1] !== 0 || ZERO_BLOCK.compare(block, from, end, 0, end - from) !== 0)) {
        let k = end - 1;
        while (block[k] === 0) k--;
        this.lastNonZero = blockStart + k;
      }
      if (i >= 0) {
        this.hit = blockStart + i;
        return;
      }
    }
  }
}

/**
 * Scans an open recording file: header, chunk index, damage. Throws a RecordingError for an unreadable
 * header. The work is linear in the file size whatever the file holds: bytes are read through windows
 * that are not read again, a rejected chunk costs its header and the frames it claims, and once
 * rejected frames have cost as many bytes as the file holds, a chunk may no longer span a chunk magic
 * (which the frames of a real chunk practically never contain), so that rejected frames never overlap.
 */
export function scanRecording(fd: number, opts: OpenOptions = {}): Scan {
  const fileBytes = fstatSync(fd).size;
  let readBytes = 0;
  let checkedBytes = 0;
  /** Bytes checksummed in frames that turned out damaged. */
  let wastedBytes = 0;
  let reported = -Infinity;
  const progress = (done: number): void => {
    if (done - reported < PROGRESS_STEP_BYTES) return;
    reported = done;
    opts.onProgress?.(done, fileBytes);
  };
  const countRead = (n: number): void => {
    readBytes += n;
  };
  const chunkBytes = new FileWindow(fd, fileBytes, countRead);
  const finder = new MagicFinder(new FileWindow(fd, fileBytes, countRead), fileBytes, progress);
  const { header, bytes: headerBytes } = decodeFileHeader(chunkBytes.get(0, Math.min(fileBytes, FILE_HEADER_MAX_BYTES)));
  const chunks: ChunkInfo[] = [];
  const damage: Damage[] = [];
  // Adjacent stretches of one kind are one; past MAX_DAMAGE_ENTRIES, adjacent ones of any kind, so
  // that a file of alternating kinds of garbage gives a few entries, not millions.
  const addDamage = (offset: number, bytes: number, what: string): void => {
    const last = damage[damage.length - 1];
    if (bytes <= 0) return;
    if (last && last.offset + last.bytes === offset && (last.what === what || damage.length >= MAX_DAMAGE_ENTRIES)) {
      last.bytes += bytes;
      if (last.what !== what) last.what = UNREADABLE;
    } else {
      damage.push({ offset, bytes, what });
    }
  };
  let pos = headerBytes;
  let intactEnd = headerBytes;
  while (pos < fileBytes) {
    progress(pos);
    const raw = chunkBytes.get(pos, CHUNK_HEADER_BYTES, HEADER_AHEAD_BYTES);
    if (!hasChunkMagic(raw)) {
      const { next, zeros } = finder.next(pos);
      addDamage(pos, next - pos, zeros ? 'zero-filled bytes' : UNREADABLE);
      pos = next;
      continue;
    }
    if (raw.length < CHUNK_HEADER_BYTES) {
      addDamage(pos, raw.length, 'file cut off in a chunk header');
      break;
    }
    const h = decodeChunkHeader(raw);
    const bodyOffset = pos + CHUNK_HEADER_BYTES;
    const claimedEnd = h?.closed ? bodyOffset + h.bodyBytes : Infinity;
    if (h?.closed && claimedEnd <= fileBytes && !opts.verify) {
      chunks.push({ offset: pos, bodyBytes: h.bodyBytes, recordBytes: h.recordBytes, count: h.count, firstWallMs: h.firstWallMs, lastWallMs: h.lastWallMs, closed: true });
      pos = intactEnd = claimedEnd;
      continue;
    }
    // Open, damaged header, cut off, or verifying: walk the frames.
    let bodyEnd = Math.min(h?.closed ? claimedEnd : bodyOffset + MAX_CHUNK_BYTES, fileBytes);
    if (wastedBytes > fileBytes) bodyEnd = Math.max(bodyOffset, Math.min(bodyEnd, finder.next(pos + 1).next));
    const walk = walkFramesIn((offset, length) => chunkBytes.get(bodyOffset + offset, length, WALK_AHEAD_BYTES), bodyEnd - bodyOffset, h?.closed ? h.count : Infinity);
    checkedBytes += walk.checkedBytes;
    wastedBytes += walk.checkedBytes - walk.end;
    const n = walk.frames.length;
    const end = bodyOffset + walk.end;
    if (n === 0) {
      // Nothing here: go on at the next magic, within the header (a chunk starting there) or after it.
      const next = finder.next(pos + 1).next;
      const skipped = Math.min(next - pos, CHUNK_HEADER_BYTES);
      addDamage(pos, skipped, h ? 'chunk without an intact sample' : 'damaged chunk header');
      pos += skipped;
      continue;
    }
    if (!h) addDamage(pos, CHUNK_HEADER_BYTES, 'damaged chunk header (its samples were recovered)');
    const closed = h?.closed === true && n === h.count;
    chunks.push({
      offset: pos,
      bodyBytes: walk.end,
      recordBytes: walk.recordBytes,
      count: n,
      firstWallMs: walk.frames[0].wallMs,
      lastWallMs: walk.frames[n - 1].wallMs,
      closed,
    });
    intactEnd = end;
    if (h?.closed && n < h.count) {
      const cause = claimedEnd > fileBytes ? 'file cut off' : 'corrupt bytes';
      addDamage(end, claimedEnd - end, `${cause}: ${h.count - n} of ${h.count} samples of the chunk at ${pos} lost`);
    }
    pos = h?.closed ? Math.min(claimedEnd, fileBytes) : end;
  }
  opts.onProgress?.(fileBytes, fileBytes);
  return { header, chunks, damage, intactEnd, fileBytes, readBytes, checkedBytes };
}

/** One line about a damaged stretch, for messages. */
export function damageText(d: Damage): string {
  return `${d.what} (${d.bytes} bytes at offset ${d.offset})`;
}

/** A recording opened for replay: header, sample count, time span, damage; samples decoded on demand. */
export class RecordingReader {
  /** The recording's header: host facts, versions, whether command lines were recorded. */
  readonly header: RecordingHeader;
  /** The chunk index, in file order. */
  readonly chunks: readonly ChunkInfo[];
  /** Damage found while opening, plus any found later while decoding. */
  readonly damage: Damage[];
  /** Size of the file when it was opened. */
  readonly fileBytes: number;
  /** Samples in the recording (those of damaged chunks excluded as far as known). */
  readonly count: number;
  /** Global index of each chunk's first sample. */
  private readonly firstIndex: number[] = [];
  private readonly cache = new Map<number, ChunkSamples>();
  private readonly damagedChunks = new Set<number>();

  private constructor(
    private readonly fd: number,
    scan: Scan,
  ) {
    this.header = scan.header;
    this.chunks = scan.chunks;
    this.damage = scan.damage;
    this.fileBytes = scan.fileBytes;
    let n = 0;
    for (const c of scan.chunks) {
      this.firstIndex.push(n);
      n += c.count;
    }
    this.count = n;
  }

  /** Opens and scans `path`; throws a RecordingError (with the path) when it is not a readable recording. */
  static open(path: string, opts: OpenOptions = {}): RecordingReader {
    const fd = openSync(path, 'r');
    try {
      return new RecordingReader(fd, scanRecording(fd, opts));
    } catch (err) {
      closeSync(fd);
      if (err instanceof RecordingError) throw new RecordingError(`${path}: ${err.message}`);
      throw err;
    }
  }

  /** Wall time of the first sample, ms since the epoch; null when there is none. */
  get firstWallMs(): number | null {
    return this.chunks.length ? this.chunks[0].firstWallMs : null;
  }

  /** Wall time of the last sample; null when there is none. */
  get lastWallMs(): number | null {
    return this.chunks.length ? this.chunks[this.chunks.length - 1].lastWallMs : null;
  }

  /** Sample i (0-based), or null when its bytes turn out damaged (then noted in `damage`). */
  sample(i: number): Snapshot | null {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`sample ${i} out of range 0..${this.count - 1}`);
    const c = this.chunkOf(i);
    const chunk = this.load(c);
    try {
      return chunk.sample(i - this.firstIndex[c]);
    } catch (err) {
      if (!(err instanceof RecordingError)) throw err;
      this.noteDamage(c, chunk);
      return null;
    }
  }

  /** Samples from..to-1 in order, skipping damaged ones. */
  *samples(from = 0, to = this.count): Generator<Snapshot> {
    for (let i = Math.max(0, from); i < Math.min(to, this.count); i++) {
      const s = this.sample(i);
      if (s) yield s;
    }
  }

  /** Wall time of sample i from the chunk index, without decoding it; null when its frame is damaged. */
  wallMsOf(i: number): number | null {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`sample ${i} out of range 0..${this.count - 1}`);
    const c = this.chunkOf(i);
    return this.load(c).frames[i - this.firstIndex[c]]?.wallMs ?? null;
  }

  /** Index of the first sample at or after `wallMs`; `count` when there is none. */
  indexAtOrAfterTime(wallMs: number): number {
    const i = this.indexAtTime(wallMs);
    if (i < 0) return this.count;
    const at = this.wallMsOf(i);
    return at !== null && at >= wallMs ? i : i + 1;
  }

  /** Index of the last sample at or before `wallMs` (0 when it is before the first); -1 when empty. */
  indexAtTime(wallMs: number): number {
    if (this.count === 0) return -1;
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid].firstWallMs <= wallMs) lo = mid;
      else hi = mid - 1;
    }
    const frames = this.load(lo).frames;
    let j = 0;
    while (j + 1 < frames.length && frames[j + 1].wallMs <= wallMs) j++;
    return this.firstIndex[lo] + j;
  }

  /** Closes the file. */
  close(): void {
    this.cache.clear();
    closeSync(this.fd);
  }

  private chunkOf(i: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstIndex[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private load(c: number): ChunkSamples {
    let chunk = this.cache.get(c);
    if (chunk) {
      this.cache.delete(c);
    } else {
      const info = this.chunks[c];
      chunk = new ChunkSamples(this.header, readAt(this.fd, info.offset + CHUNK_HEADER_BYTES, info.bodyBytes), info.count);
      if (chunk.count < info.count) this.noteDamage(c, chunk);
      if (this.cache.size >= CACHED_CHUNKS) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(c, chunk);
    return chunk;
  }

  private noteDamage(c: number, chunk: ChunkSamples): void {
    if (this.damagedChunks.has(c)) return;
    this.damagedChunks.add(c);
    const info = this.chunks[c];
    this.damage.push({
      offset: info.offset,
      bytes: CHUNK_HEADER_BYTES + info.bodyBytes,
      what: `samples of the chunk at ${info.offset} do not decode (${chunk.count} of ${info.count} frames intact)`,
    });
  }
}
