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
  walkFrames,
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
}

/** How to open a recording. */
export interface OpenOptions {
  /** Called now and then with bytes scanned so far and the file size. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Check every frame's checksum while opening (reads the whole file), so counts are exact up front. */
  verify?: boolean;
}

const RESYNC_BLOCK_BYTES = 1024 * 1024;
const CACHED_CHUNKS = 2;

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

/** The offset of the next chunk magic at or after `from`, or `size`; and whether the bytes skipped are all zero. */
function findNextChunk(fd: number, from: number, size: number, onProgress?: OpenOptions['onProgress']): { next: number; zeros: boolean } {
  let zeros = true;
  for (let pos = from; pos < size; pos += RESYNC_BLOCK_BYTES) {
    onProgress?.(pos, size);
    const block = readAt(fd, pos, Math.min(RESYNC_BLOCK_BYTES + CHUNK_MAGIC.length - 1, size - pos));
    const hit = block.indexOf(CHUNK_MAGIC);
    const skipped = block.subarray(0, hit >= 0 ? hit : Math.min(RESYNC_BLOCK_BYTES, block.length));
    zeros &&= skipped.every((b) => b === 0);
    if (hit >= 0) return { next: pos + hit, zeros };
  }
  return { next: size, zeros };
}

/** Scans an open recording file: header, chunk index, damage. Throws a RecordingError for an unreadable header. */
export function scanRecording(fd: number, opts: OpenOptions = {}): Scan {
  const fileBytes = fstatSync(fd).size;
  const { header, bytes: headerBytes } = decodeFileHeader(readAt(fd, 0, Math.min(fileBytes, FILE_HEADER_MAX_BYTES)));
  const chunks: ChunkInfo[] = [];
  const damage: Damage[] = [];
  const addDamage = (offset: number, bytes: number, what: string): void => {
    const last = damage[damage.length - 1];
    if (last && last.offset + last.bytes === offset && last.what === what) last.bytes += bytes;
    else if (bytes > 0) damage.push({ offset, bytes, what });
  };
  let pos = headerBytes;
  let intactEnd = headerBytes;
  while (pos < fileBytes) {
    opts.onProgress?.(pos, fileBytes);
    const raw = readAt(fd, pos, CHUNK_HEADER_BYTES);
    if (!hasChunkMagic(raw)) {
      const { next, zeros } = findNextChunk(fd, pos + 1, fileBytes, opts.onProgress);
      addDamage(pos, next - pos, zeros ? 'zero-filled bytes' : 'unreadable bytes (torn write or corruption)');
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
    const body = readAt(fd, bodyOffset, Math.min(h?.closed ? h.bodyBytes : MAX_CHUNK_BYTES, fileBytes - bodyOffset));
    const walk = walkFrames(body, h?.closed ? h.count : Infinity);
    const n = walk.frames.length;
    const end = bodyOffset + walk.end;
    if (n === 0) {
      addDamage(pos, CHUNK_HEADER_BYTES, h ? 'chunk without an intact sample' : 'damaged chunk header');
      pos += CHUNK_HEADER_BYTES;
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
  return { header, chunks, damage, intactEnd, fileBytes };
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
