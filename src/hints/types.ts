// What a hint is, and what a rule must provide.
import type { Frame } from '../model/frame.js';
import { escapeControl } from '../output/text.js';
import type { Thresholds } from './thresholds.js';

/** How much a hint matters. */
export type Severity = 'info' | 'warn' | 'crit';

/** What a hint is about: the whole system, one CPU, memory, a process or a thread. */
export interface HintSubject {
  kind: 'system' | 'cpu' | 'memory' | 'process' | 'thread';
  /** CPU number, pid or tid, by kind. */
  id?: number;
  /** The process of a thread subject. */
  pid?: number;
}

/** Identity of a hint across frames: its rule and its subject (the engine's tracks, the `w` list's selection). */
export function hintKey(id: string, subject: HintSubject): string {
  return `${id}|${subject.kind}:${subject.id ?? ''}`;
}

/** An active hint, as the UI shows it and `dump` prints it (without `explain`). */
export interface Hint {
  id: string;
  severity: Severity;
  subject: HintSubject;
  /** One line, at most 100 characters, with the numbers that triggered it. */
  message: string;
  /** A paragraph: what it means, why it matters, what to look at next. */
  explain: string;
}

/**
 * What a rule found about one subject in one frame. `on`: the condition is clearly met; `hold`:
 * it is met only at the lower threshold — enough to keep an active hint, not to start one
 * (hysteresis: a value hovering around a threshold does not make the hint flicker).
 */
export interface Finding {
  subject: HintSubject;
  level: 'on' | 'hold';
  severity: Severity;
  message: string;
  explain: string;
}

/** Longest message a hint may have. */
export const MAX_MESSAGE_CHARS = 100;

/** A kernel-supplied name for a hint message: control bytes escaped, cut to 24 characters. */
export function shortName(name: string): string {
  const safe = escapeControl(name);
  return safe.length > 24 ? `${safe.slice(0, 23)}…` : safe;
}

/** One rule: a pure function of a frame. */
export interface HintRule {
  id: string;
  /** Metric catalog ids (or `host.*` facts) the rule reads: its evidence. */
  reads: readonly string[];
  /** Frames in a row the condition must be `on` before the hint shows (1: at once). */
  minFrames: number;
  /**
   * `recent`: the frames before this one, oldest first (a few), for rules that compare over time;
   * they carry no thread or process lists.
   */
  evaluate(frame: Frame, t: Thresholds, recent: readonly Frame[]): Finding[];
}
