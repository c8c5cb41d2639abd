// A small assembler for BPF programs (the instruction set of Documentation/bpf/standardization):
// whytop writes its few kernel programs instruction by instruction here, so installing it needs
// no clang or libbpf. Jumps go to named labels; map references are patched with map fds.

/** Registers r0–r10 (r10: the read-only frame pointer). */
export const R0 = 0;
export const R1 = 1;
export const R2 = 2;
export const R3 = 3;
export const R4 = 4;
export const R5 = 5;
export const R6 = 6;
export const R7 = 7;
export const R8 = 8;
export const R9 = 9;
export const R10 = 10;

/** Helper function ids (enum bpf_func_id, stable kernel ABI). */
export const Helper = {
  mapLookupElem: 1,
  ktimeGetNs: 5,
  seqWrite: 127,
  taskStorageGet: 156,
  getCurrentTaskBtf: 158,
} as const;

/** Flag of bpf_task_storage_get: create the task's storage when it has none. */
export const TASK_STORAGE_CREATE = 1;

const SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };
const CLASS_LDX = 0x01;
const CLASS_ST = 0x02;
const CLASS_STX = 0x03;
const CLASS_JMP = 0x05;
const CLASS_ALU64 = 0x07;
const MODE_MEM = 0x60;
const SRC_K = 0x00;
const SRC_X = 0x08;

/** ALU operations (the high nibble of the opcode). */
export const Alu = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, mov: 0xb0 } as const;
/** Conditional jumps (unsigned compares unless named s*). */
export const Jmp = { eq: 0x10, gt: 0x20, ge: 0x30, set: 0x40, ne: 0x50, lt: 0xa0, le: 0xb0 } as const;

type Insn = { code: number; dst: number; src: number; off: number; imm: number; label?: string };

/** Builds one program; `encode()` resolves labels and returns struct bpf_insn[] bytes. */
export class BpfAsm {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();

  private push(code: number, dst: number, src: number, off: number, imm: number, label?: string): this {
    this.insns.push({ code, dst, src, off, imm, label });
    return this;
  }

  /** dst = *(size *)(src + off) */
  load(size: 1 | 2 | 4 | 8, dst: number, src: number, off: number): this {
    return this.push(CLASS_LDX | MODE_MEM | SIZE[size], dst, src, off, 0);
  }

  /** *(size *)(dst + off) = src */
  store(size: 1 | 2 | 4 | 8, dst: number, off: number, src: number): this {
    return this.push(CLASS_STX | MODE_MEM | SIZE[size], dst, src, off, 0);
  }

  /** *(size *)(dst + off) = imm */
  storeImm(size: 1 | 2 | 4 | 8, dst: number, off: number, imm: number): this {
    return this.push(CLASS_ST | MODE_MEM | SIZE[size], dst, 0, off, imm);
  }

  /** dst = dst op imm (64-bit) */
  aluImm(op: number, dst: number, imm: number): this {
    return this.push(CLASS_ALU64 | op | SRC_K, dst, 0, 0, imm);
  }

  /** dst = dst op src (64-bit) */
  alu(op: number, dst: number, src: number): this {
    return this.push(CLASS_ALU64 | op | SRC_X, dst, src, 0, 0);
  }

  /** dst = imm */
  movImm(dst: number, imm: number): this {
    return this.aluImm(Alu.mov, dst, imm);
  }

  /** dst = src */
  mov(dst: number, src: number): this {
    return this.alu(Alu.mov, dst, src);
  }

  /** if (dst op imm) goto label */
  jumpImm(op: number, dst: number, imm: number, label: string): this {
    return this.push(CLASS_JMP | op | SRC_K, dst, 0, 0, imm, label);
  }

  /** if (dst op src) goto label */
  jump(op: number, dst: number, src: number, label: string): this {
    return this.push(CLASS_JMP | op | SRC_X, dst, src, 0, 0, label);
  }

  /** goto label */
  goto(label: string): this {
    return this.push(CLASS_JMP | 0x00, 0, 0, 0, 0, label);
  }

  /** r0 = helper(r1, ..., r5); r1–r5 are clobbered. */
  call(helper: number): this {
    return this.push(CLASS_JMP | 0x80, 0, 0, 0, helper);
  }

  /** return r0 */
  exit(): this {
    return this.push(CLASS_JMP | 0x90, 0, 0, 0, 0);
  }

  /** dst = the map whose fd is `mapFd` (a two-slot load the kernel turns into the map's address). */
  loadMap(dst: number, mapFd: number): this {
    this.push(0x18, dst, 1, 0, mapFd); // BPF_LD | BPF_IMM | BPF_DW, src = BPF_PSEUDO_MAP_FD
    return this.push(0, 0, 0, 0, 0);
  }

  /** Marks the position of the next instruction. */
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`BPF label '${name}' defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  /** Number of instructions so far. */
  get length(): number {
    return this.insns.length;
  }

  /** The program as struct bpf_insn[] (8 bytes each), jump offsets resolved. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.insns.length * 8);
    const view = new DataView(out.buffer);
    this.insns.forEach((insn, i) => {
      let off = insn.off;
      if (insn.label !== undefined) {
        const target = this.labels.get(insn.label);
        if (target === undefined) throw new Error(`BPF label '${insn.label}' not defined`);
        off = target - i - 1;
      }
      view.setUint8(i * 8, insn.code);
      view.setUint8(i * 8 + 1, (insn.src << 4) | insn.dst);
      view.setInt16(i * 8 + 2, off, true);
      view.setInt32(i * 8 + 4, insn.imm, true);
    });
    return out;
  }
}
