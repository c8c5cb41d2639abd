// The whytop recording format: bytes on disk ⇄ raw Snapshots.
//
// A recording holds raw snapshots, never derived values, so it replays with tomorrow's rate maths and
// hint rules. Integers are little-endian; crc32 is the zlib/PNG one (polynomial 0xEDB88320).
//
//   File        = FileHeader Chunk*
//
//   FileHeader  (16 + L + 4 bytes)
//     0   8  magic 89 57 48 59 54 4F 50 0A ("\x89WHYTOP\n")
//     8   4  format version (1); a reader refuses versions newer than its own
//    12   4  L, length of the JSON that follows (at most 64 KiB)
//    16   L  JSON {whytopVersion, host: {hostname, kernelRelease, clkTck, pageSizeBytes, cpuCount,
//            meltdown}, startWallMs, recordsCmdlines}
//  16+L   4  crc32 of bytes [0, 16+L)
//   Magic, version, L and the crc keep their place in every format version, so that a reader checks
//   the header before trusting the version in it.
//
//   Chunk       = ChunkHeader Frame*, at most 300 samples; closed early once its frames reach 4 MiB or
//                 its records 32 MiB. Each chunk is one brotli stream (quality 5, window 2^20, input
//                 blocks of 2^18 bytes: files as small as with a 4 MiB window, for a quarter of the
//                 encoder's memory), so it decodes without any other chunk.
//   ChunkHeader (48 bytes)
//     0   8  magic 89 57 48 59 43 48 4B 0A ("\x89WHYCHK\n")
//     8   4  state: 0 open (still being written: count and lengths are 0), 1 closed
//    12   4  sample count
//    16   4  body bytes (all frames)
//    20   4  record bytes (all frames' records, decompressed)
//    24   8  f64 wall time of the first sample, ms since the epoch
//    32   8  f64 wall time of the last sample (= first while open)
//    40   4  reserved, 0
//    44   4  crc32 of bytes [0, 44)
//   The writer writes the header open with the first frame, appends one frame per sample, and rewrites
//   the header in place (pwrite) when the chunk closes. A reader hops from closed header to closed
//   header; it walks an open chunk frame by frame.
//
//   Frame       = one sample (20 + n bytes)
//     0   4  n, compressed bytes
//     4   4  record bytes (decompressed)
//     8   8  f64 wall time of the sample, ms since the epoch
//    16   4  crc32 of bytes [0, 16) followed by the n compressed bytes
//    20   n  the record as the next piece of the chunk's brotli stream, flushed
//            (BROTLI_OPERATION_FLUSH): frames 0..k decompress to records 0..k without any later byte,
//            so a sample is durable as soon as its frame is written.
//
//   Record (format 1) = msgpack (msgpackr: moreTypes on, useRecords off) of [rest, taskMonoNs, tasks, procs]
//     rest     the Snapshot without host (in the file header), wallMs (in the frame) and taskSample
//     tasks    {count, tid, starttimeTicks, state, comm, wchan, same, cols}; procs likewise, keyed by
//              pid and starttimeTicks, with cmdline all null unless recordsCmdlines
//     keys     tid and starttimeTicks (pid and starttimeTicks): f64 little-endian bytes
//     same     names of the fields (keys included) equal to the previous record's, which are omitted
//     cols     {name: [skips, deltas, exceptions]} for every other numeric column. Row i's baseline is
//              the value of the same task (same keys) in the previous record of the chunk, or 0 for a
//              task not in it. For each row that differs from its baseline, in order: `skips` holds
//              the number of unchanged rows before it and `deltas` z, both LEB128 varints; z > 0 is a
//              zigzag integer delta (odd: +(z+1)/2, even: -z/2), z = 0 means "the next value of
//              `exceptions` (f64 little-endian bytes) verbatim" (NaN, fractions, -0, huge values).
//              A column missing from a record decodes as all NaN; unknown fields are kept as they are.
//
// Crash safety: a file cut off anywhere keeps every whole frame; corrupt bytes cost the rest of their
// chunk (frame checksums), and a reader resynchronises by scanning for the next chunk magic, in time
// linear in the file size (reader.ts). Zero bytes never pass as a frame or chunk header. Every length
// is checked against the file size and the limits below before anything is allocated. One writer at a
// time holds FILE.lock (writeLock.ts).
// Privacy: files are created mode 0600; command lines are stored only when the recording says so.
// Versions: a reader decodes every format version up to its own (one record decoder per version,
// with a committed fixture per version under test/fixtures/recordings/) and refuses newer ones.
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { brotliDecompressSync, constants as zc, createBrotliCompress, type BrotliCompress, type BrotliOptions } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { fastTaskTable, PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../model/snapshot.js';
import type { HostInfo, ProcTable, Snapshot, TaskTable } from '../model/snapshot.js';

/** The format version this whytop writes. */
export const FORMAT_VERSION = 1;
/** Magic at offset 0 of every recording. */
export const FILE_MAGIC = Buffer.from('\x89WHYTOP\n', 'latin1');
/** Magic at the start of every chunk; a reader resynchronises on it after damage. */
export const CHUNK_MAGIC = Buffer.from('\x89WHYCHK\n', 'latin1');
/** Bytes of a file header before its JSON. */
export const FILE_HEADER_FIXED_BYTES = 16;
/** Largest header JSON a reader accepts. */
export const MAX_HEADER_JSON_BYTES = 64 * 1024;
/** Bytes of a chunk header. */
export const CHUNK_HEADER_BYTES = 48;
/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 20;
/** Samples after which a writer closes its chunk. */
export const CHUNK_MAX_SAMPLES = 300;
/** Frame bytes after which a writer closes its chunk. */
export const CHUNK_TARGET_BODY_BYTES = 4 * 1024 * 1024;
/** Record bytes after which a writer closes its chunk (bounds a reader's memory per chunk). */
export const CHUNK_TARGET_RECORD_BYTES = 32 * 1024 * 1024;
/** Largest record (one snapshot, uncompressed) a writer writes and a reader accepts. */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;
/** Largest chunk body, and largest sum of its records, a reader accepts. */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/** whytop's own version, from package.json (same relative path from src/store and dist/store). */
export const WHYTOP_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** A recording that cannot be read or written as asked; the message is meant for the user. */
export class RecordingError extends Error {
  override name = 'RecordingError';
}

/** What a recording's header says about the whole session. */
export interface RecordingHeader {
  formatVersion: number;
  whytopVersion: string;
  host: HostInfo;
  /** Wall time the recording was created, ms since the epoch. */
  startWallMs: number;
  /** Whether process command lines were recorded (otherwise every cmdline is null). */
  recordsCmdlines: boolean;
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** crc32 of `data`, continuing from `crc` (the crc of the bytes before it). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- file header ----------------------------------------------------------------------------------

/** The bytes of a file header. */
export function encodeFileHeader(header: RecordingHeader): Buffer {
  const { formatVersion, ...rest } = header;
  const json = Buffer.from(JSON.stringify(rest), 'utf8');
  const buf = Buffer.alloc(FILE_HEADER_FIXED_BYTES + json.length + 4);
  FILE_MAGIC.copy(buf, 0);
  buf.writeUInt32LE(formatVersion, 8);
  buf.writeUInt32LE(json.length, 12);
  json.copy(buf, FILE_HEADER_FIXED_BYTES);
  buf.writeUInt32LE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  return buf;
}

/** Bytes to read from the start of a file to be sure to hold its whole header. */
export const FILE_HEADER_MAX_BYTES = FILE_HEADER_FIXED_BYTES + MAX_HEADER_JSON_BYTES + 4;

/**
 * Parses the header at the start of `buf` (the first bytes of a file, up to FILE_HEADER_MAX_BYTES);
 * returns it and its length, or throws a RecordingError saying why the file is not a readable recording.
 */
export function decodeFileHeader(buf: Buffer): { header: RecordingHeader; bytes: number } {
  if (buf.length === 0) throw new RecordingError('empty file: not a whytop recording');
  const magicBytes = Math.min(buf.length, FILE_MAGIC.length);
  if (!buf.subarray(0, magicBytes).equals(FILE_MAGIC.subarray(0, magicBytes))) {
    throw new RecordingError('not a whytop recording');
  }
  if (buf.length < FILE_HEADER_FIXED_BYTES) throw new RecordingError(`recording header is cut off (${buf.length} bytes)`);
  const jsonBytes = buf.readUInt32LE(12);
  if (jsonBytes > MAX_HEADER_JSON_BYTES) throw new RecordingError('recording header is damaged (impossible length)');
  const bytes = FILE_HEADER_FIXED_BYTES + jsonBytes + 4;
  if (buf.length < bytes) throw new RecordingError(`recording header is cut off (${buf.length} of ${bytes} bytes)`);
  if (crc32(buf.subarray(0, bytes - 4)) !== buf.readUInt32LE(bytes - 4)) {
    throw new RecordingError('recording header is damaged (checksum mismatch)');
  }
  const version = buf.readUInt32LE(8);
  if (version > FORMAT_VERSION) {
    throw new RecordingError(`recording format v${version} is newer than this whytop supports (v${FORMAT_VERSION}): upgrade whytop`);
  }
  if (!RECORD_DECODERS[version]) throw new RecordingError(`recording header is damaged (unknown format version ${version})`);
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8', FILE_HEADER_FIXED_BYTES, bytes - 4));
  } catch {
    throw new RecordingError('recording header is damaged (not JSON)');
  }
  const h = json as Omit<RecordingHeader, 'formatVersion'>;
  const host = h?.host;
  const valid =
    typeof h?.whytopVersion === 'string' &&
    typeof h.startWallMs === 'number' &&
    typeof h.recordsCmdlines === 'boolean' &&
    typeof host?.hostname === 'string' &&
    typeof host.kernelRelease === 'string' &&
    typeof host.clkTck === 'number' &&
    typeof host.pageSizeBytes === 'number' &&
    typeof host.cpuCount === 'number' &&
    (typeof host.meltdown === 'string' || host.meltdown === null);
  if (!valid) throw new RecordingError('recording header is damaged (fields missing)');
  return { header: { formatVersion: version, ...h }, bytes };
}

// ---- chunk header ---------------------------------------------------------------------------------

/** What a chunk header says. Open chunks have count, bodyBytes and recordBytes 0. */
export interface ChunkHeader {
  closed: boolean;
  count: number;
  bodyBytes: number;
  recordBytes: number;
  firstWallMs: number;
  lastWallMs: number;
}

/** The bytes of a chunk header. */
export function encodeChunkHeader(h: ChunkHeader): Buffer {
  const buf = Buffer.alloc(CHUNK_HEADER_BYTES);
  CHUNK_MAGIC.copy(buf, 0);
  buf.writeUInt32LE(h.closed ? 1 : 0, 8);
  buf.writeUInt32LE(h.count, 12);
  buf.writeUInt32LE(h.bodyBytes, 16);
  buf.writeUInt32LE(h.recordBytes, 20);
  buf.writeDoubleLE(h.firstWallMs, 24);
  buf.writeDoubleLE(h.lastWallMs, 32);
  buf.writeUInt32LE(crc32(buf.subarray(0, 44)), 44);
  return buf;
}

/** Whether `buf` starts with the chunk magic. */
export function hasChunkMagic(buf: Buffer): boolean {
  return buf.length >= CHUNK_MAGIC.length && CHUNK_MAGIC.compare(buf, 0, CHUNK_MAGIC.length) === 0;
}

/** Parses a chunk header; null when it is cut off, fails its checksum or says something impossible. */
export function decodeChunkHeader(buf: Buffer): ChunkHeader | null {
  if (buf.length < CHUNK_HEADER_BYTES || !hasChunkMagic(buf)) return null;
  if (crc32(buf.subarray(0, 44)) !== buf.readUInt32LE(44)) return null;
  const state = buf.readUInt32LE(8);
  const h: ChunkHeader = {
    closed: state === 1,
    count: buf.readUInt32LE(12),
    bodyBytes: buf.readUInt32LE(16),
    recordBytes: buf.readUInt32LE(20),
    firstWallMs: buf.readDoubleLE(24),
    lastWallMs: buf.readDoubleLE(32),
  };
  const sane = h.closed
    ? h.count > 0 && h.bodyBytes <= MAX_CHUNK_BYTES && h.recordBytes <= MAX_CHUNK_BYTES && h.count * (FRAME_HEADER_BYTES + 1) <= h.bodyBytes
    : state === 0 && h.count === 0 && h.bodyBytes === 0 && h.recordBytes === 0;
  return sane ? h : null;
}

// ---- frames ---------------------------------------------------------------------------------------

/** One intact frame of a chunk body. */
export interface FrameInfo {
  /** Offset of the frame header within the body. */
  offset: number;
  compressedBytes: number;
  recordBytes: number;
  wallMs: number;
}

/** The bytes of one frame. */
export function encodeFrame(compressed: Buffer, recordBytes: number, wallMs: number): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES + compressed.length);
  buf.writeUInt32LE(compressed.length, 0);
  buf.writeUInt32LE(recordBytes, 4);
  buf.writeDoubleLE(wallMs, 8);
  compressed.copy(buf, FRAME_HEADER_BYTES);
  buf.writeUInt32LE(crc32(compressed, crc32(buf.subarray(0, 16))), 16);
  return buf;
}

/** Bytes [offset, offset + length) of a chunk body (fewer when the file ends first). */
export type BodyBytes = (offset: number, length: number) => Buffer;

/** What walking a chunk body found. */
export interface FrameWalk {
  frames: FrameInfo[];
  /** Body offset after the last intact frame. */
  end: number;
  /** Sum of the intact frames' record bytes. */
  recordBytes: number;
  /** Bytes checksummed, the failing frame's included: the work the walk did. */
  checkedBytes: number;
}

/**
 * The intact frames at the start of a chunk body of `bodyLength` bytes, read piece by piece through
 * `bytes`, up to `maxFrames`: stops at the first frame that is cut off, fails its checksum or has an
 * impossible length, before reading it when its length alone rules it out.
 */
export function walkFramesIn(bytes: BodyBytes, bodyLength: number, maxFrames = Infinity): FrameWalk {
  const frames: FrameInfo[] = [];
  let pos = 0;
  let recordBytes = 0;
  let checkedBytes = 0;
  while (frames.length < maxFrames && bodyLength - pos >= FRAME_HEADER_BYTES) {
    const header = bytes(pos, FRAME_HEADER_BYTES);
    if (header.length < FRAME_HEADER_BYTES) break;
    const compressedBytes = header.readUInt32LE(0);
    const frameRecordBytes = header.readUInt32LE(4);
    const end = pos + FRAME_HEADER_BYTES + compressedBytes;
    if (compressedBytes === 0 || end > bodyLength) break;
    if (frameRecordBytes === 0 || frameRecordBytes > MAX_RECORD_BYTES || recordBytes + frameRecordBytes > MAX_CHUNK_BYTES) break;
    const headerCrc = crc32(header.subarray(0, 16));
    const compressed = bytes(pos + FRAME_HEADER_BYTES, compressedBytes);
    if (compressed.length < compressedBytes) break;
    checkedBytes += FRAME_HEADER_BYTES + compressedBytes;
    if (crc32(compressed, headerCrc) !== header.readUInt32LE(16)) break;
    frames.push({ offset: pos, compressedBytes, recordBytes: frameRecordBytes, wallMs: header.readDoubleLE(8) });
    recordBytes += frameRecordBytes;
    pos = end;
  }
  return { frames, end: pos, recordBytes, checkedBytes };
}

/** walkFramesIn over a chunk body held in memory. */
export function walkFrames(body: Buffer, maxFrames = Infinity): FrameWalk {
  return walkFramesIn((offset, length) => body.subarray(offset, offset + length), body.length, maxFrames);
}

// ---- records (format 1) ---------------------------------------------------------------------------

/** How one table kind is keyed and which of its fields are numeric columns. */
interface TableSpec {
  keys: readonly [string, string];
  numeric: readonly string[];
}

const TASK_SPEC: TableSpec = { keys: ['tid', 'starttimeTicks'], numeric: TASK_NUMERIC_COLUMNS };
const PROC_SPEC: TableSpec = { keys: ['pid', 'starttimeTicks'], numeric: PROC_NUMERIC_COLUMNS };

/** A table's key and numeric columns, as the baseline of the next record. */
interface TableState {
  keyA: Float64Array;
  keyB: Float64Array;
  cols: Map<string, Float64Array>;
}

type AnyTable = Record<string, unknown> & { count: number };

/** Largest |delta| stored as a varint (its zigzag value stays a safe integer). */
const MAX_DELTA = 2 ** 51;

/** A growable byte buffer of LEB128 varints. */
class VarintWriter {
  private buf = new Uint8Array(256);
  private pos = 0;

  /** Appends a non-negative integer ≤ 2^53. */
  write(n: number): void {
    if (this.pos + 8 > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** The bytes written so far (a Buffer, which msgpack stores as plain binary). */
  bytes(): Buffer {
    return Buffer.from(this.buf.buffer, 0, this.pos);
  }
}

/** The bytes of a Float64Array (little-endian on every host whytop records on), as a Buffer view. */
function f64Bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** `src`'s values in `spare` when it has the same length (reusing it), else in a new array. */
function copyInto(spare: Float64Array | undefined, src: Float64Array): Float64Array {
  if (spare?.length !== src.length) return src.slice();
  spare.set(src);
  return spare;
}

/** An array of `count` values to decode into: `spare` when it fits. */
function scratch(spare: Float64Array | undefined, count: number): Float64Array {
  return spare?.length === count ? spare : new Float64Array(count);
}

/**
 * For each row of the current table, the row of the same task (same two keys) in the previous
 * record's table, or -1. Encoder and decoder run this on identical inputs, so they agree.
 */
function matchRows(keyA: Float64Array, keyB: Float64Array, prev: TableState | null): Int32Array {
  const rows = new Int32Array(keyA.length).fill(-1);
  if (!prev) return rows;
  let byKey: Map<number, number> | null = null;
  for (let j = 0; j < keyA.length; j++) {
    if (j < prev.keyA.length && Object.is(prev.keyA[j], keyA[j]) && Object.is(prev.keyB[j], keyB[j])) {
      rows[j] = j;
      continue;
    }
    if (!byKey) {
      byKey = new Map();
      for (let i = 0; i < prev.keyA.length; i++) byKey.set(prev.keyA[i], i);
    }
    const i = byKey.get(keyA[j]);
    if (i !== undefined && Object.is(prev.keyB[i], keyB[j])) rows[j] = i;
  }
  return rows;
}

function encodeColumn(cur: Float64Array, rows: Int32Array, prev: Float64Array | undefined): [Uint8Array, Uint8Array, Uint8Array] {
  const skips = new VarintWriter();
  const deltas = new VarintWriter();
  const exceptions: number[] = [];
  let last = -1;
  for (let j = 0; j < cur.length; j++) {
    const v = cur[j];
    const b = prev && rows[j] >= 0 ? prev[rows[j]] : 0;
    if (Object.is(v, b)) continue;
    skips.write(j - last - 1);
    last = j;
    const d = v - b;
    if (Number.isSafeInteger(v) && !Object.is(v, -0) && Number.isSafeInteger(b) && d !== 0 && Math.abs(d) <= MAX_DELTA) {
      deltas.write(d > 0 ? 2 * d - 1 : -2 * d);
    } else {
      deltas.write(0);
      exceptions.push(v);
    }
  }
  return [skips.bytes(), deltas.bytes(), f64Bytes(Float64Array.from(exceptions))];
}

/** Reads LEB128 varints from `bytes`, throwing a RecordingError past its end. */
class VarintReader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** Whether every byte has been read. */
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The next varint. */
  read(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.bytes.length || scale > 2 ** 56) throw new RecordingError('malformed column');
      const byte = this.bytes[this.pos++];
      n += (byte & 127) * scale;
      if (byte < 128) return n;
      scale *= 128;
    }
  }
}

function decodeColumn(stored: unknown, rows: Int32Array, prev: Float64Array | undefined, out: Float64Array): Float64Array {
  if (!Array.isArray(stored) || !stored.every((part) => part instanceof Uint8Array) || stored.length !== 3 || stored[2].length % 8 !== 0) {
    throw new RecordingError('malformed column');
  }
  const skips = new VarintReader(stored[0]);
  const deltas = new VarintReader(stored[1]);
  const exceptionBytes = stored[2] as Uint8Array;
  const exceptions = new DataView(exceptionBytes.buffer, exceptionBytes.byteOffset, exceptionBytes.byteLength);
  for (let j = 0; j < out.length; j++) out[j] = prev && rows[j] >= 0 ? prev[rows[j]] : 0;
  let row = -1;
  let e = 0;
  while (!skips.done) {
    row += skips.read() + 1;
    const z = deltas.read();
    if (row >= out.length) throw new RecordingError('malformed column');
    if (z === 0) {
      if (e >= exceptionBytes.length) throw new RecordingError('malformed column');
      out[row] = exceptions.getFloat64(e, true);
      e += 8;
    } else {
      out[row] += z % 2 === 1 ? (z + 1) / 2 : -z / 2;
    }
  }
  return out;
}

/** Whether a stored field holds the same values as in the previous record. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Loops, not callbacks: no closure is made per call on a refresh path (README, Performance).
  if (a instanceof Float64Array && b instanceof Float64Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
    return true;
  }
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A copy of an array field (other values are immutable). */
function own(value: unknown): unknown {
  return Array.isArray(value) ? value.slice() : value;
}

/**
 * Codes one table kind (tasks or procs) across the records of a chunk, each against the one before.
 * Fields equal to the previous record's (names, states, keys when no task came or went) are listed
 * in `same` instead of stored. Encoding keeps the previous table's columns by reference; decoding
 * keeps its own and a spare set to decode into, so that decoding a run of records allocates little;
 * `table()` hands out copies.
 */
class TableCodec {
  private prev: TableState | null = null;
  private spare: TableState | null = null;
  /** The previous record's fields other than the key and numeric columns. */
  private fields: Record<string, unknown> = {};

  constructor(private readonly spec: TableSpec) {}

  /** The stored form of the next table. */
  encode(table: AnyTable): Record<string, unknown> {
    const [a, b] = this.spec.keys;
    const keyA = table[a] as Float64Array;
    const keyB = table[b] as Float64Array;
    const rows = matchRows(keyA, keyB, this.prev);
    const stored: Record<string, unknown> = {};
    const same: string[] = [];
    const cols: Record<string, [Uint8Array, Uint8Array, Uint8Array]> = {};
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(table)) {
      if (name === a || name === b) {
        if (this.prev && sameValue(value, name === a ? this.prev.keyA : this.prev.keyB)) same.push(name);
        else stored[name] = f64Bytes(value as Float64Array);
      } else if (this.spec.numeric.includes(name)) {
        cols[name] = encodeColumn(value as Float64Array, rows, this.prev?.cols.get(name));
      } else {
        if (name !== 'count' && name in this.fields && sameValue(value, this.fields[name])) same.push(name);
        else stored[name] = value;
        fields[name] = value;
      }
    }
    stored.same = same;
    stored.cols = cols;
    // A snapshot's columns never change once sampled: keep them, not a copy.
    const next: TableState = { keyA, keyB, cols: new Map() };
    for (const name of Object.keys(cols)) next.cols.set(name, table[name] as Float64Array);
    this.prev = next;
    this.fields = fields;
    return stored;
  }

  /** Decodes the next stored table into the codec's state. */
  decode(stored: unknown): void {
    const s = stored as Record<string, unknown>;
    const [a, b] = this.spec.keys;
    const count = s?.count;
    const same = s?.same;
    const cols = s?.cols as Record<string, unknown>;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || !Array.isArray(same) || typeof cols !== 'object' || cols === null) {
      throw new RecordingError('malformed table');
    }
    const key = (name: string, prev: Float64Array | undefined, spare: Float64Array | undefined): Float64Array => {
      if (same.includes(name)) {
        if (prev?.length !== count) throw new RecordingError('malformed table');
        return copyInto(spare, prev);
      }
      const bytes = s[name];
      if (!(bytes instanceof Uint8Array) || bytes.length !== count * 8) throw new RecordingError('malformed table');
      const out = scratch(spare, count);
      f64Bytes(out).set(bytes);
      return out;
    };
    const keyA = key(a, this.prev?.keyA, this.spare?.keyA);
    const keyB = key(b, this.prev?.keyB, this.spare?.keyB);
    const rows = matchRows(keyA, keyB, this.prev);
    const next: TableState = { keyA, keyB, cols: new Map() };
    for (const name of this.spec.numeric) {
      if (name === a || name === b) continue;
      const out = scratch(this.spare?.cols.get(name), count);
      next.cols.set(name, name in cols ? decodeColumn(cols[name], rows, this.prev?.cols.get(name), out) : out.fill(NaN));
    }
    const fields: Record<string, unknown> = {};
    for (const name of same) {
      if (name === a || name === b) continue;
      if (typeof name !== 'string' || !(name in this.fields)) throw new RecordingError('malformed table');
      fields[name] = this.fields[name];
    }
    for (const [name, value] of Object.entries(s)) if (name !== 'same' && name !== 'cols' && name !== a && name !== b) fields[name] = value;
    this.spare = this.prev;
    this.prev = next;
    this.fields = fields;
  }

  /** The last decoded table, with columns and arrays of its own. */
  table(): AnyTable {
    const state = this.prev!;
    const [a, b] = this.spec.keys;
    const table = { [a]: state.keyA.slice(), [b]: state.keyB.slice() } as AnyTable;
    for (const [name, value] of Object.entries(this.fields)) table[name] = own(value);
    for (const [name, col] of state.cols) table[name] = col.slice();
    return table;
  }
}

const msgpackOptions = { moreTypes: true, useRecords: false } as const;

/** Fails on big-endian hosts, where the stored column bytes would read back wrong. */
function requireLittleEndian(): void {
  if (endianness() !== 'LE') throw new RecordingError('recordings need a little-endian host');
}

/** Turns the snapshots of one chunk into records. */
class RecordEncoderV1 {
  private readonly packr = new Packr(msgpackOptions);
  private readonly tasks = new TableCodec(TASK_SPEC);
  private readonly procs = new TableCodec(PROC_SPEC);

  constructor(private readonly recordCmdlines: boolean) {
    requireLittleEndian();
  }

  /** The record of the next snapshot of the chunk. */
  encode(s: Snapshot): Buffer {
    const { host: _host, wallMs: _wallMs, taskSample, ...rest } = s;
    const procs = this.recordCmdlines
      ? taskSample.procs
      : { ...taskSample.procs, cmdline: new Array<string | null>(taskSample.procs.count).fill(null) };
    const storedTasks = this.tasks.encode(taskSample.tasks as unknown as AnyTable);
    const storedProcs = this.procs.encode(procs as unknown as AnyTable);
    return this.packr.pack([rest, taskSample.monoNs, storedTasks, storedProcs]);
  }
}

/** Turns the records of one chunk, in order, back into snapshots. */
interface RecordDecoder {
  /** Decodes the next record into the decoder's state. */
  advance(record: Buffer): void;
  /** The snapshot of the last record decoded. */
  snapshot(host: HostInfo, wallMs: number): Snapshot;
}

/** Decoder for format 1 records. */
class RecordDecoderV1 implements RecordDecoder {
  private readonly unpackr = new Unpackr(msgpackOptions);
  private readonly tasks = new TableCodec(TASK_SPEC);
  private readonly procs = new TableCodec(PROC_SPEC);
  private rest: Omit<Snapshot, 'host' | 'wallMs' | 'taskSample'> | null = null;
  private taskMonoNs = 0;

  constructor() {
    requireLittleEndian();
  }

  advance(record: Buffer): void {
    const value: unknown = this.unpackr.unpack(record);
    if (!Array.isArray(value) || value.length !== 4 || typeof value[0] !== 'object' || value[0] === null || typeof value[1] !== 'number') {
      throw new RecordingError('malformed record');
    }
    this.tasks.decode(value[2]);
    this.procs.decode(value[3]);
    this.rest = value[0] as Omit<Snapshot, 'host' | 'wallMs' | 'taskSample'>;
    this.taskMonoNs = value[1];
  }

  snapshot(host: HostInfo, wallMs: number): Snapshot {
    return {
      host,
      wallMs,
      ...this.rest!,
      taskSample: { monoNs: this.taskMonoNs, tasks: fastTaskTable(this.tasks.table() as unknown as TaskTable), procs: this.procs.table() as unknown as ProcTable },
    };
  }
}

/** A record decoder for each format version this whytop reads; a new version adds its own. */
const RECORD_DECODERS: Record<number, () => RecordDecoder> = {
  1: () => new RecordDecoderV1(),
};

// ---- chunks ---------------------------------------------------------------------------------------

/** Limits a chunk writer closes its chunk at. */
export interface ChunkLimits {
  /** Samples per chunk. */
  maxSamples: number;
  /** Frame bytes after which the chunk closes. */
  targetBodyBytes: number;
}

/** Default chunk limits. */
export const DEFAULT_CHUNK_LIMITS: ChunkLimits = { maxSamples: CHUNK_MAX_SAMPLES, targetBodyBytes: CHUNK_TARGET_BODY_BYTES };

/**
 * Builds one chunk: each snapshot becomes a frame, compressed as the next flushed piece of the chunk's
 * brotli stream. Calls to `encode` must not overlap.
 */
export class ChunkEncoder {
  private readonly records: RecordEncoderV1;
  // A readable high-water mark above any chunk lets the write callback fire without anyone reading,
  // so the flushed output can be taken with one read() afterwards.
  private readonly brotli: BrotliCompress = createBrotliCompress({
    flush: zc.BROTLI_OPERATION_FLUSH,
    params: { [zc.BROTLI_PARAM_QUALITY]: 5, [zc.BROTLI_PARAM_LGWIN]: 20, [zc.BROTLI_PARAM_LGBLOCK]: 18 },
    readableHighWaterMark: 2 ** 31,
  } as BrotliOptions);
  /** Samples in the chunk so far. */
  count = 0;
  /** Bytes of its frames so far. */
  bodyBytes = 0;
  /** Bytes of its records so far (decompressed). */
  recordBytes = 0;
  /** Wall time of its first sample (NaN before the first). */
  firstWallMs = NaN;
  /** Wall time of its last sample. */
  lastWallMs = NaN;

  constructor(recordCmdlines: boolean, private readonly limits: ChunkLimits = DEFAULT_CHUNK_LIMITS) {
    this.records = new RecordEncoderV1(recordCmdlines);
    // Errors also reach the write callback; without a listener they would crash the process.
    this.brotli.on('error', () => {});
  }

  /** The frame holding `s`, as the next sample of this chunk. */
  async encode(s: Snapshot): Promise<Buffer> {
    const record = this.records.encode(s);
    if (record.length > MAX_RECORD_BYTES) throw new RecordingError(`snapshot too large to record (${record.length} bytes)`);
    const compressed = await new Promise<Buffer>((resolve, reject) => {
      this.brotli.write(record, (err) => (err ? reject(err) : resolve((this.brotli.read() as Buffer | null) ?? Buffer.alloc(0))));
    });
    const frame = encodeFrame(compressed, record.length, s.wallMs);
    if (this.count === 0) this.firstWallMs = s.wallMs;
    this.lastWallMs = s.wallMs;
    this.count++;
    this.bodyBytes += frame.length;
    this.recordBytes += record.length;
    return frame;
  }

  /** Whether the chunk has reached a limit and should be closed. */
  get full(): boolean {
    return this.count >= this.limits.maxSamples || this.bodyBytes >= this.limits.targetBodyBytes || this.recordBytes >= CHUNK_TARGET_RECORD_BYTES;
  }

  /** This chunk's header, open or closed. */
  header(closed: boolean): Buffer {
    return encodeChunkHeader({
      closed,
      count: closed ? this.count : 0,
      bodyBytes: closed ? this.bodyBytes : 0,
      recordBytes: closed ? this.recordBytes : 0,
      firstWallMs: this.firstWallMs,
      lastWallMs: closed ? this.lastWallMs : this.firstWallMs,
    });
  }

  /** Frees the compressor. */
  dispose(): void {
    this.brotli.close();
  }
}

/**
 * The samples of one chunk, decoded on demand from its body: frames are checked on construction,
 * decompressed on first use, and decoded in order (each record is a delta against the one before);
 * the decoder keeps its place, so that stepping forward costs one record. Snapshots handed out are
 * the caller's, but the same object is returned when one sample is asked for twice in a row.
 */
export class ChunkSamples {
  /** The intact frames, at most the chunk's sample count. */
  readonly frames: FrameInfo[];
  private records: Buffer[] | null = null;
  private decoder: RecordDecoder | null = null;
  /** Index of the last record the decoder has decoded. */
  private decodedUpTo = -1;
  private last: { index: number; snapshot: Snapshot } | null = null;

  constructor(private readonly header: RecordingHeader, private readonly body: Buffer, maxFrames = Infinity) {
    this.frames = walkFrames(body, maxFrames).frames;
  }

  /** Samples this chunk can give (whole, checksummed frames). */
  get count(): number {
    return this.frames.length;
  }

  /** Sample j of the chunk; throws a RecordingError when its bytes do not decode. */
  sample(j: number): Snapshot {
    if (!Number.isInteger(j) || j < 0 || j >= this.frames.length) throw new RecordingError(`sample ${j} of the chunk is damaged or missing`);
    if (this.last?.index === j) return this.last.snapshot;
    const records = this.decompress();
    if (j >= records.length) throw new RecordingError(`sample ${j} of the chunk does not decompress`);
    if (!this.decoder || this.decodedUpTo > j) {
      this.decoder = RECORD_DECODERS[this.header.formatVersion]();
      this.decodedUpTo = -1;
    }
    try {
      for (let k = this.decodedUpTo + 1; k <= j; k++) {
        this.decodedUpTo = k;
        this.decoder.advance(records[k]);
      }
    } catch (err) {
      this.decoder = null;
      throw err instanceof RecordingError ? err : new RecordingError(`sample ${j} of the chunk does not decode`);
    }
    this.last = { index: j, snapshot: this.decoder.snapshot(this.header.host, this.frames[j].wallMs) };
    return this.last.snapshot;
  }

  private decompress(): Buffer[] {
    if (this.records) return this.records;
    const parts = this.frames.map((f) => this.body.subarray(f.offset + FRAME_HEADER_BYTES, f.offset + FRAME_HEADER_BYTES + f.compressedBytes));
    const expected = this.frames.reduce((n, f) => n + f.recordBytes, 0);
    let out: Buffer;
    try {
      out = brotliDecompressSync(Buffer.concat(parts), { finishFlush: zc.BROTLI_OPERATION_FLUSH, maxOutputLength: Math.max(expected, 1), chunkSize: Math.max(expected, 64 * 1024) });
    } catch {
      out = Buffer.alloc(0);
    }
    const records: Buffer[] = [];
    let pos = 0;
    for (const f of this.frames) {
      if (pos + f.recordBytes > out.length) break;
      records.push(out.subarray(pos, pos + f.recordBytes));
      pos += f.recordBytes;
    }
    this.records = records;
    return records;
  }
}
