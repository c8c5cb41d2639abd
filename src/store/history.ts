// The live TUI's recent past: snapshots kept in memory in the recording's chunk encoding, capped by
// bytes (whole oldest chunks are dropped), readable like a replay and savable as a recording file.
import { closeSync, constants as fsc, openSync, writeSync } from 'node:fs';
import type { Snapshot } from '../model/snapshot.js';
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAX_SAMPLES,
  CHUNK_TARGET_BODY_BYTES,
  ChunkEncoder,
  ChunkSamples,
  encodeFileHeader,
  FORMAT_VERSION,
  RecordingError,
  WHYTOP_VERSION,
  type RecordingHeader,
} from './format.js';
import { lockForWriting } from './writeLock.js';

/** How much history to keep. */
export interface HistoryOptions {
  /** Cap on the bytes held (default 32 MiB). */
  capBytes?: number;
  /** Keep process command lines (default false: stored as null, and so in saved files). */
  recordCmdlines?: boolean;
  /** Samples per chunk (default 300); the unit in which old history is dropped. */
  chunkSamples?: number;
}

/** A closed chunk: its bytes (header and frames) and what the index needs. */
interface HeldChunk {
  bytes: Buffer;
  count: number;
  firstWallMs: number;
  lastWallMs: number;
}

/** Default cap on the bytes of history held. */
export const DEFAULT_HISTORY_BYTES = 32 * 1024 * 1024;

/** Recent snapshots, compressed, capped by bytes. */
export class History {
  /** Samples dropped from the front so far (sample i here is sample dropped + i since the start). */
  dropped = 0;
  private readonly capBytes: number;
  private readonly recordCmdlines: boolean;
  private readonly chunkSamples: number;
  private header: RecordingHeader | null = null;
  private readonly closed: HeldChunk[] = [];
  private open: { encoder: ChunkEncoder; frames: Buffer[] } | null = null;
  private heldBytes = 0;
  private queue: Promise<void> = Promise.resolve();
  private decoded: { key: Buffer | Buffer[]; count: number; samples: ChunkSamples } | null = null;

  constructor(opts: HistoryOptions = {}) {
    this.capBytes = opts.capBytes ?? DEFAULT_HISTORY_BYTES;
    this.recordCmdlines = opts.recordCmdlines ?? false;
    this.chunkSamples = opts.chunkSamples ?? CHUNK_MAX_SAMPLES;
  }

  /** Adds `s` as the newest sample; resolves once it is held (count includes it). */
  append(s: Snapshot): Promise<void> {
    return this.enqueue(async () => {
      this.header ??= { formatVersion: FORMAT_VERSION, whytopVersion: WHYTOP_VERSION, host: s.host, startWallMs: s.wallMs, recordsCmdlines: this.recordCmdlines };
      if (!this.open) {
        // Chunks well below the cap, so that dropping one frees a small part of it.
        const targetBodyBytes = Math.max(1, Math.min(CHUNK_TARGET_BODY_BYTES, Math.floor(this.capBytes / 8)));
        this.open = { encoder: new ChunkEncoder(this.recordCmdlines, { maxSamples: this.chunkSamples, targetBodyBytes }), frames: [] };
      }
      // A snapshot that fails to encode has advanced the encoder's deltas: end the chunk before it.
      const frame = await this.open.encoder.encode(s).catch((err: unknown) => {
        this.closeOpenChunk();
        throw err;
      });
      this.open.frames.push(frame);
      this.heldBytes += frame.length + (this.open.frames.length === 1 ? CHUNK_HEADER_BYTES : 0);
      if (this.open.encoder.full) this.closeOpenChunk();
      while (this.heldBytes > this.capBytes && this.closed.length > 0) {
        const oldest = this.closed.shift()!;
        this.heldBytes -= oldest.bytes.length;
        this.dropped += oldest.count;
      }
    });
  }

  /** Samples held. */
  get count(): number {
    return this.closed.reduce((n, c) => n + c.count, 0) + (this.open?.frames.length ?? 0);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Wall time of the oldest sample held; null when empty. */
  get firstWallMs(): number | null {
    return this.closed[0]?.firstWallMs ?? (this.open ? this.open.encoder.firstWallMs : null);
  }

  /** Wall time of the newest sample held; null when empty. */
  get lastWallMs(): number | null {
    return this.open ? this.open.encoder.lastWallMs : (this.closed[this.closed.length - 1]?.lastWallMs ?? null);
  }

  /** Estimated minutes of history the cap holds at the rate seen so far; null until two samples. */
  get minutesHeld(): number | null {
    const first = this.firstWallMs;
    const last = this.lastWallMs;
    if (first === null || last === null || last <= first || this.heldBytes === 0) return null;
    return ((last - first) / 60_000) * (this.capBytes / this.heldBytes);
  }

  /** Sample i (0 = oldest held); null when its bytes do not decode. */
  sample(i: number): Snapshot | null {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`sample ${i} out of range 0..${this.count - 1}`);
    let j = i;
    for (const c of this.closed) {
      if (j < c.count) return this.decode(c.bytes, c.count, j);
      j -= c.count;
    }
    return this.decode(this.open!.frames, this.open!.frames.length, j);
  }

  /**
   * Writes the history held as a new recording file (mode 0600), holding its write lock meanwhile so
   * that no recorder appends to it half-written; refuses to overwrite a file.
   */
  saveTo(path: string): Promise<void> {
    return this.enqueue(async () => {
      if (!this.header || this.count === 0) throw new RecordingError('no history to save yet');
      const parts = [encodeFileHeader({ ...this.header, startWallMs: this.firstWallMs! }), ...this.closed.map((c) => c.bytes)];
      if (this.open) parts.push(this.open.encoder.header(true), ...this.open.frames);
      const lock = lockForWriting(path);
      try {
        let fd: number;
        try {
          fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RecordingError(`${path} exists: refusing to overwrite it`);
          throw err;
        }
        try {
          for (const part of parts) {
            let done = 0;
            while (done < part.length) done += writeSync(fd, part, done);
          }
        } finally {
          closeSync(fd);
        }
      } finally {
        lock.release();
      }
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => {});
    return result;
  }

  private closeOpenChunk(): void {
    const { encoder, frames } = this.open!;
    if (frames.length > 0) this.closed.push({ bytes: Buffer.concat([encoder.header(true), ...frames]), count: frames.length, firstWallMs: encoder.firstWallMs, lastWallMs: encoder.lastWallMs });
    encoder.dispose();
    this.open = null;
  }

  /** Decodes sample j of a chunk (closed: its bytes; open: its frames), keeping one chunk decoded. */
  private decode(key: Buffer | Buffer[], count: number, j: number): Snapshot | null {
    if (this.decoded?.key !== key || this.decoded.count !== count) {
      const body = Array.isArray(key) ? Buffer.concat(key) : key.subarray(CHUNK_HEADER_BYTES);
      this.decoded = { key, count, samples: new ChunkSamples(this.header!, body, count) };
    }
    try {
      return this.decoded.samples.sample(j);
    } catch (err) {
      if (err instanceof RecordingError) return null;
      throw err;
    }
  }
}
