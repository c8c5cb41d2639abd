// A reader for BTF, the kernel's own description of its types (/sys/kernel/btf/vmlinux): it finds
// where a field lives inside a kernel struct on the running kernel, so the BPF task iterator
// (bpfTaskIter.ts) reads the right bytes without compiling against kernel headers.
// Format: https://docs.kernel.org/bpf/btf.html (a header, then type records, then a string table).

const BTF_MAGIC = 0xeb9f;

/** BTF type kinds used here (the numbering of include/uapi/linux/btf.h). */
export const BtfKind = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** Where a field is: byte offset from the start of the outer struct, and its size in bytes. */
export interface BtfField {
  offset: number;
  size: number;
  /** BTF kind of the field's type after typedefs and qualifiers (INT, PTR, STRUCT, ARRAY, ...). */
  kind: number;
}

/** A parse or lookup failure, with a message that says what was looked for. */
export class BtfError extends Error {}

/** Bytes that follow a type record's 12-byte head, by kind (vlen = number of members/params). */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 4;
    case BtfKind.ARRAY:
      return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return 12 * vlen;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return 8 * vlen;
    case BtfKind.PTR:
    case BtfKind.FWD:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.FUNC:
    case BtfKind.FLOAT:
    case BtfKind.TYPE_TAG:
      return 0;
    default:
      throw new BtfError(`unknown BTF type kind ${kind}`);
  }
}

/** Parsed BTF: type records indexed by id (ids start at 1), names resolved on demand. */
export class Btf {
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly strStart: number;
  private readonly strEnd: number;
  /** Byte offset of each type record, by type id (index 0 unused). */
  private readonly recordAt: Uint32Array;
  private readonly count: number;
  private readonly decoder = new TextDecoder();

  private constructor(bytes: Uint8Array, view: DataView, strStart: number, strEnd: number, recordAt: Uint32Array, count: number) {
    this.bytes = bytes;
    this.view = view;
    this.strStart = strStart;
    this.strEnd = strEnd;
    this.recordAt = recordAt;
    this.count = count;
  }

  /** Parses a BTF blob (little-endian, as on x86-64 and arm64); throws BtfError when it is not one. */
  static parse(bytes: Uint8Array): Btf {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 24 || view.getUint16(0, true) !== BTF_MAGIC) throw new BtfError('not little-endian BTF (bad magic)');
    const hdrLen = view.getUint32(4, true);
    const typeStart = hdrLen + view.getUint32(8, true);
    const typeEnd = typeStart + view.getUint32(12, true);
    const strStart = hdrLen + view.getUint32(16, true);
    const strEnd = strStart + view.getUint32(20, true);
    if (typeEnd > bytes.byteLength || strEnd > bytes.byteLength) throw new BtfError('BTF sections run past the end of the data');
    let offsets = new Uint32Array(1 << 16);
    let count = 1;
    for (let at = typeStart; at < typeEnd; ) {
      if (at + 12 > typeEnd) throw new BtfError(`truncated BTF type record at byte ${at}`);
      if (count === offsets.length) {
        const grown = new Uint32Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      offsets[count++] = at;
      const info = view.getUint32(at + 4, true);
      at += 12 + extraBytes((info >>> 24) & 0x1f, info & 0xffff);
    }
    return new Btf(bytes, view, strStart, strEnd, offsets, count);
  }

  /** Number of type ids (the highest id + 1). */
  get typeCount(): number {
    return this.count;
  }

  private info(id: number): number {
    return this.view.getUint32(this.recordAt[id] + 4, true);
  }

  /** The kind of type `id`. */
  kind(id: number): number {
    return (this.info(id) >>> 24) & 0x1f;
  }

  private vlen(id: number): number {
    return this.info(id) & 0xffff;
  }

  /** The size field of a sized type, or the referenced type id of a PTR, TYPEDEF, qualifier or FUNC. */
  private sizeOrType(id: number): number {
    return this.view.getUint32(this.recordAt[id] + 8, true);
  }

  private string(offset: number): string {
    const start = this.strStart + offset;
    let end = start;
    while (end < this.strEnd && this.bytes[end] !== 0) end++;
    return this.decoder.decode(this.bytes.subarray(start, end));
  }

  /** The name of type `id` ('' when anonymous). */
  name(id: number): string {
    return this.string(this.view.getUint32(this.recordAt[id], true));
  }

  /** The id of the first type of `kind` named `name`, or null. */
  find(kind: number, name: string): number | null {
    const wanted = new TextEncoder().encode(name);
    for (let id = 1; id < this.count; id++) {
      if (this.kind(id) !== kind) continue;
      const start = this.strStart + this.view.getUint32(this.recordAt[id], true);
      if (this.bytes[start + wanted.length] !== 0) continue;
      let same = true;
      for (let i = 0; i < wanted.length && same; i++) same = this.bytes[start + i] === wanted[i];
      if (same) return id;
    }
    return null;
  }

  /** Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the underlying type. */
  resolve(id: number): number {
    for (let hops = 0; hops < 64; hops++) {
      const k = this.kind(id);
      if (k !== BtfKind.TYPEDEF && k !== BtfKind.VOLATILE && k !== BtfKind.CONST && k !== BtfKind.RESTRICT && k !== BtfKind.TYPE_TAG) return id;
      id = this.sizeOrType(id);
    }
    throw new BtfError(`type ${id}: typedef chain too long`);
  }

  /** Size in bytes of type `id` (pointers are 8 bytes: 64-bit kernels only). */
  sizeOf(id: number): number {
    id = this.resolve(id);
    switch (this.kind(id)) {
      case BtfKind.INT:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FLOAT:
        return this.sizeOrType(id);
      case BtfKind.PTR:
        return 8;
      case BtfKind.ARRAY: {
        const { elemType, nelems } = this.array(id);
        return nelems * this.sizeOf(elemType);
      }
      default:
        throw new BtfError(`type ${id} (${this.name(id) || 'anonymous'}) has no size`);
    }
  }

  private array(id: number): { elemType: number; nelems: number } {
    const at = this.recordAt[id] + 12;
    return { elemType: this.view.getUint32(at, true), nelems: this.view.getUint32(at + 8, true) };
  }

  /** The type a PTR points to. */
  pointee(id: number): number {
    id = this.resolve(id);
    if (this.kind(id) !== BtfKind.PTR) throw new BtfError(`type ${id} is not a pointer`);
    return this.resolve(this.sizeOrType(id));
  }

  /**
   * A member of struct/union `id` by name, looking inside anonymous struct/union members as C does:
   * its byte offset from the start of `id` and its type id; null when absent. Bitfields are refused.
   */
  member(id: number, name: string): { offset: number; type: number } | null {
    id = this.resolve(id);
    const k = this.kind(id);
    if (k !== BtfKind.STRUCT && k !== BtfKind.UNION) return null;
    const kindFlag = this.info(id) >>> 31 === 1;
    const first = this.recordAt[id] + 12;
    for (let i = 0; i < this.vlen(id); i++) {
      const at = first + 12 * i;
      const memberName = this.string(this.view.getUint32(at, true));
      const type = this.view.getUint32(at + 4, true);
      const raw = this.view.getUint32(at + 8, true);
      const bitOffset = kindFlag ? raw & 0xffffff : raw;
      const bitfieldSize = kindFlag ? raw >>> 24 : 0;
      if (memberName === name) {
        if (bitfieldSize !== 0 || bitOffset % 8 !== 0) throw new BtfError(`${this.name(id)}.${name} is a bitfield`);
        return { offset: bitOffset / 8, type };
      }
      if (memberName === '') {
        const inner = this.member(type, name);
        if (inner) return { offset: bitOffset / 8 + inner.offset, type: inner.type };
      }
    }
    return null;
  }

  /**
   * A field of the struct named `structName` by C path (`se.sum_exec_runtime`, `rss_stat[1].count`),
   * or null when the struct or any step of the path does not exist on this kernel.
   */
  field(structName: string, path: string): BtfField | null {
    let type = this.find(BtfKind.STRUCT, structName);
    if (type === null) return null;
    let offset = 0;
    for (const step of path.split('.')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(step);
      if (!m) throw new BtfError(`bad field path '${path}'`);
      const member = this.member(type, m[1]);
      if (member === null) return null;
      offset += member.offset;
      type = this.resolve(member.type);
      if (m[2] !== undefined) {
        if (this.kind(type) !== BtfKind.ARRAY) return null;
        const { elemType, nelems } = this.array(type);
        const index = Number(m[2]);
        if (index >= nelems) return null;
        offset += index * this.sizeOf(elemType);
        type = this.resolve(elemType);
      }
    }
    return { offset, size: this.sizeOf(type), kind: this.kind(type) };
  }
}

/** One type record for encodeBtf: its kind, name, size (or referenced type id), and members/extra words. */
export interface BtfTypeSpec {
  kind: number;
  name: string;
  sizeOrType: number;
  /** STRUCT/UNION members: name, type id, bit offset. */
  members?: Array<[string, number, number]>;
  /** Words after the head for other kinds (INT encoding, ARRAY elem/index/count). */
  extra?: number[];
}

/** Encodes types (ids from 1, in order) as a little-endian BTF blob, as BPF_BTF_LOAD takes it. */
export function encodeBtf(types: readonly BtfTypeSpec[]): Uint8Array {
  const strings = new Map<string, number>([['', 0]]);
  let strBytes = 1;
  const strOff = (s: string): number => {
    let off = strings.get(s);
    if (off === undefined) {
      off = strBytes;
      strings.set(s, off);
      strBytes += new TextEncoder().encode(s).length + 1;
    }
    return off;
  };
  const words: number[] = [];
  for (const t of types) {
    const vlen = t.members?.length ?? 0;
    words.push(strOff(t.name), (t.kind << 24) | vlen, t.sizeOrType);
    for (const [name, type, bitOffset] of t.members ?? []) words.push(strOff(name), type, bitOffset);
    words.push(...(t.extra ?? []));
  }
  const typeLen = words.length * 4;
  const out = new Uint8Array(24 + typeLen + strBytes);
  const view = new DataView(out.buffer);
  view.setUint16(0, BTF_MAGIC, true);
  view.setUint8(2, 1); // version
  view.setUint32(4, 24, true); // header length
  view.setUint32(8, 0, true); // type section offset
  view.setUint32(12, typeLen, true);
  view.setUint32(16, typeLen, true); // string section offset
  view.setUint32(20, strBytes, true);
  words.forEach((w, i) => view.setUint32(24 + 4 * i, w >>> 0, true));
  const encoder = new TextEncoder();
  for (const [s, off] of strings) out.set(encoder.encode(s), 24 + typeLen + off);
  return out;
}
