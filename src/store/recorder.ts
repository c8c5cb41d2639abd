// Writes snapshots to a recording file, one frame per sample, so that a crash loses at most the
// sample being written. Appends to an existing recording of the same host after cutting off a torn tail.
import { closeSync, constants as fsc, fchmodSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { HostInfo, Snapshot } from '../model/snapshot.js';
import {
  ChunkEncoder,
  DEFAULT_CHUNK_LIMITS,
  encodeChunkHeader,
  encodeFileHeader,
  FORMAT_VERSION,
  RecordingError,
  WHYTOP_VERSION,
  type ChunkLimits,
  type RecordingHeader,
} from './format.js';
import { scanRecording, type Damage } from './reader.js';
import { lockForWriting, type WriteLock } from './writeLock.js';

/** How to record. */
export interface RecorderOptions {
  /** Record process command lines (default false: every cmdline is stored as null). */
  recordCmdlines?: boolean;
  /** When to close a chunk (default: 300 samples or 4 MiB). */
  chunkLimits?: ChunkLimits;
}

/**
 * The host facts that must match for samples to be appended to an existing recording, as the user
 * knows them. Samples take their host facts from the file header, so a host rebooted into another
 * kernel or another Meltdown mitigation state needs a new file.
 */
const MATCHING_HOST_FIELDS = {
  hostname: 'host name',
  kernelRelease: 'kernel release',
  meltdown: 'Meltdown mitigation state',
  clkTck: 'CLK_TCK',
  pageSizeBytes: 'page size',
  cpuCount: 'CPU count',
} as const;

function writeAll(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/** An open recording file that snapshots are appended to. */
export class Recorder {
  /** Samples appended by this recorder (not counting those already in the file). */
  samples = 0;
  /** What was cut off the end of an existing recording before appending (a crash's torn tail). */
  readonly repaired: Damage[];
  private chunk: ChunkEncoder | null = null;
  private chunkOffset = 0;
  private queue: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private closed = false;

  private constructor(
    /** Path of the recording. */
    readonly path: string,
    private readonly fd: number,
    /** The recording's header (the existing one when appending). */
    readonly header: RecordingHeader,
    private end: number,
    repaired: Damage[],
    private readonly limits: ChunkLimits,
    private readonly lock: WriteLock,
  ) {
    this.repaired = repaired;
  }

  /**
   * Creates `path` (mode 0600; an existing empty file is taken over) or appends to the recording
   * already there. Throws a RecordingError, leaving the file untouched, when it exists and is not a
   * whytop recording, is from another host (or kernel, or Meltdown state), another format version,
   * was made with a different command-line setting, or is being written by another recorder.
   */
  static open(path: string, host: HostInfo, opts: RecorderOptions = {}): Recorder {
    const recordsCmdlines = opts.recordCmdlines ?? false;
    const limits = opts.chunkLimits ?? DEFAULT_CHUNK_LIMITS;
    const header: RecordingHeader = { formatVersion: FORMAT_VERSION, whytopVersion: WHYTOP_VERSION, host, startWallMs: Date.now(), recordsCmdlines };
    const lock = lockForWriting(path);
    try {
      let fd: number;
      try {
        fd = openSync(path, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        return Recorder.openExisting(path, header, limits, lock);
      }
      const bytes = encodeFileHeader(header);
      writeAll(fd, bytes, 0);
      return new Recorder(path, fd, header, bytes.length, [], limits, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static openExisting(path: string, wanted: RecordingHeader, limits: ChunkLimits, lock: WriteLock): Recorder {
    const fd = openSync(path, 'r+');
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new RecordingError('not a regular file');
      if (stat.size === 0) {
        fchmodSync(fd, 0o600);
        const bytes = encodeFileHeader(wanted);
        writeAll(fd, bytes, 0);
        return new Recorder(path, fd, wanted, bytes.length, [], limits, lock);
      }
      let scan;
      try {
        scan = scanRecording(fd);
      } catch (err) {
        if (err instanceof RecordingError) throw new RecordingError(`${err.message}: refusing to write to it`);
        throw err;
      }
      const have = scan.header;
      if (have.formatVersion !== wanted.formatVersion) {
        throw new RecordingError(`recording is format v${have.formatVersion}, this whytop writes v${wanted.formatVersion}: record to a new file`);
      }
      for (const [field, name] of Object.entries(MATCHING_HOST_FIELDS) as Array<[keyof typeof MATCHING_HOST_FIELDS, string]>) {
        if (have.host[field] !== wanted.host[field]) {
          throw new RecordingError(`recording is from ${name} ${JSON.stringify(have.host[field])}, this host has ${JSON.stringify(wanted.host[field])}: record to a new file`);
        }
      }
      if (have.recordsCmdlines !== wanted.recordsCmdlines) {
        const was = have.recordsCmdlines ? 'with' : 'without';
        throw new RecordingError(`recording was made ${was} command lines: record to a new file, or ${have.recordsCmdlines ? 'add' : 'drop'} --cmdline`);
      }
      // Close a chunk a crash left open (or whose header or tail is damaged), then cut off what follows.
      const last = scan.chunks[scan.chunks.length - 1];
      if (last && !last.closed) {
        const { offset, count, bodyBytes, recordBytes, firstWallMs, lastWallMs } = last;
        writeAll(fd, encodeChunkHeader({ closed: true, count, bodyBytes, recordBytes, firstWallMs, lastWallMs }), offset);
      }
      const repaired = scan.damage.filter((d) => d.offset >= scan.intactEnd);
      if (scan.intactEnd < scan.fileBytes) ftruncateSync(fd, scan.intactEnd);
      return new Recorder(path, fd, have, scan.intactEnd, repaired, limits, lock);
    } catch (err) {
      closeSync(fd);
      if (err instanceof RecordingError) throw new RecordingError(`${path}: ${err.message}`);
      throw err;
    }
  }

  /** Size of the file so far. */
  get bytes(): number {
    return this.end;
  }

  /** Writes `s` to the file; resolves once its bytes are written (an fsync is not done). */
  append(s: Snapshot): Promise<void> {
    return this.enqueue(() => this.write(s));
  }

  /** Closes the open chunk and the file. */
  close(): Promise<void> {
    return this.enqueue(async () => {
      this.closed = true;
      try {
        if (!this.failed) this.closeChunk();
      } finally {
        this.chunk?.dispose();
        closeSync(this.fd);
        this.lock.release();
      }
    }, true);
  }

  private enqueue(task: () => Promise<void>, evenAfterFailure = false): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.closed) throw new RecordingError(`${this.path}: recorder is closed`);
      if (this.failed && !evenAfterFailure) throw this.failed;
      try {
        await task();
      } catch (err) {
        this.failed = err;
        throw err;
      }
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => {});
    return result;
  }

  private async write(s: Snapshot): Promise<void> {
    let chunk = this.chunk;
    if (!chunk) {
      chunk = this.chunk = new ChunkEncoder(this.header.recordsCmdlines, this.limits);
      this.chunkOffset = this.end;
    }
    const frame = await chunk.encode(s);
    const bytes = chunk.count === 1 ? Buffer.concat([chunk.header(false), frame]) : frame;
    writeAll(this.fd, bytes, this.end);
    this.end += bytes.length;
    this.samples++;
    if (chunk.full) this.closeChunk();
  }

  private closeChunk(): void {
    if (!this.chunk) return;
    writeAll(this.fd, this.chunk.header(true), this.chunkOffset);
    this.chunk.dispose();
    this.chunk = null;
  }
}
