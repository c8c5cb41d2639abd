// Runs the rules over a sequence of frames with hysteresis and minimum durations. Pure: the state
// between frames is a value passed in and returned, so live, replay and dump give the same hints.
import type { Frame } from '../model/frame.js';
import { RULES } from './rules/index.js';
import { THRESHOLDS } from './thresholds.js';
import type { Thresholds } from './thresholds.js';
import { hintKey, MAX_MESSAGE_CHARS } from './types.js';
import type { Finding, Hint, HintRule, Severity } from './types.js';

/** Frames a hint stays after its condition is gone (so a single dip does not hide it). */
export const OFF_FRAMES = 2;

/** What the engine remembers about one (rule, subject). */
interface Track {
  ruleIndex: number;
  /** Frames in a row with an 'on' finding, up to this one. */
  onStreak: number;
  /** Frames in a row without a finding, while active. */
  offStreak: number;
  active: boolean;
  /** Frame count of the last 'on' finding: the hold level keeps an active hint holdFrames after it. */
  lastOnFrame: number;
  last: Finding;
}

/** Frames before the current one that rules may compare against. */
export const RECENT_FRAMES = 5;

/** The engine's memory between frames. */
export interface HintState {
  frames: number;
  tracks: ReadonlyMap<string, Track>;
  /** The last RECENT_FRAMES frames, oldest first, without their thread and process lists (memory). */
  recent: readonly Frame[];
  /**
   * Frames from the start during which a (rule, subject) seen for the first time is taken to have
   * been active already (0: the past is known to hold no hints). See initialHintState.
   */
  assumeActiveFrames: number;
}

/** A frame as `recent` keeps it: without its thread and process lists. */
function recentFrame(frame: Frame): Frame {
  return { ...frame, threads: [], processes: [] };
}

/**
 * The state before the first frame. `before`: the frames just before it, oldest first, for rules
 * that compare over time. `unknownPast`: the run starts mid-way, after frames it has not seen; a
 * hint found in its first OFF_FRAMES frames is taken to have been active already, which makes the
 * run an upper bound of the real one (store/timeline.ts replays from both bounds when it seeks).
 */
export function initialHintState(before: readonly Frame[] = [], unknownPast = false): HintState {
  return { frames: 0, tracks: new Map(), recent: before.slice(-RECENT_FRAMES).map(recentFrame), assumeActiveFrames: unknownPast ? OFF_FRAMES : 0 };
}

/** A rule's finding in one frame, with the key of its (rule, subject). */
export interface KeyedFinding {
  key: string;
  ruleIndex: number;
  finding: Finding;
}

/** What the rules find in `frame` (`recent`: the frames before it): the first finding per rule and subject. */
export function findHints(frame: Frame, recent: readonly Frame[], rules: readonly HintRule[] = RULES, thresholds: Thresholds = THRESHOLDS): KeyedFinding[] {
  const out: KeyedFinding[] = [];
  const seen = new Set<string>();
  rules.forEach((rule, ruleIndex) => {
    for (const finding of rule.evaluate(frame, thresholds, recent)) {
      const key = hintKey(rule.id, finding.subject);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ key, ruleIndex, finding });
    }
  });
  return out;
}

/** A message as one line of at most MAX_MESSAGE_CHARS characters (a rule's numbers come first). */
function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ');
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS - 1)}…` : line;
}

const SEVERITY_RANK: Record<Severity, number> = { crit: 0, warn: 1, info: 2 };

/**
 * Moves the state one frame on, given what the rules found in it: a hint starts after its rule's
 * minFrames 'on' frames in a row, stays while found at 'on' or 'hold' level (hold: at most
 * holdFrames after the last 'on' frame) and OFF_FRAMES - 1 frames more. Returns the new state and
 * the active hints, most severe first.
 */
export function advanceHints(
  state: HintState,
  frame: Frame,
  findings: readonly KeyedFinding[],
  rules: readonly HintRule[] = RULES,
  thresholds: Thresholds = THRESHOLDS,
): { state: HintState; hints: Hint[] } {
  const frames = state.frames + 1;
  const tracks = new Map<string, Track>();
  const found = new Set<string>();
  for (const { key, ruleIndex, finding } of findings) {
    found.add(key);
    const assumed = frames <= state.assumeActiveFrames ? { onStreak: 0, active: true, lastOnFrame: 0 } : undefined;
    const old = state.tracks.get(key) ?? assumed;
    const on = finding.level === 'on';
    const onStreak = on ? (old?.onStreak ?? 0) + 1 : 0;
    const lastOnFrame = on ? frames : (old?.lastOnFrame ?? 0);
    const held = old?.active === true && frames - lastOnFrame <= thresholds.holdFrames;
    const active = held || onStreak >= rules[ruleIndex].minFrames;
    if (!active && onStreak === 0) continue;
    tracks.set(key, { ruleIndex, onStreak, offStreak: 0, active, lastOnFrame, last: finding });
  }
  for (const [key, old] of state.tracks) {
    if (found.has(key) || !old.active || old.offStreak + 1 >= OFF_FRAMES) continue;
    tracks.set(key, { ...old, onStreak: 0, offStreak: old.offStreak + 1 });
  }
  const hints: Array<Hint & { order: number }> = [];
  for (const t of tracks.values()) {
    if (t.active) hints.push({ id: rules[t.ruleIndex].id, severity: t.last.severity, subject: t.last.subject, message: oneLine(t.last.message), explain: t.last.explain, order: t.ruleIndex });
  }
  hints.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.order - b.order || (a.subject.id ?? 0) - (b.subject.id ?? 0));
  const recent = [...state.recent, recentFrame(frame)].slice(-RECENT_FRAMES);
  return { state: { ...state, frames, tracks, recent }, hints: hints.map(({ order: _order, ...h }) => h) };
}

/** Evaluates every rule on `frame`; returns the new state and the active hints, most severe first. */
export function evaluateHints(
  state: HintState,
  frame: Frame,
  rules: readonly HintRule[] = RULES,
  thresholds: Thresholds = THRESHOLDS,
): { state: HintState; hints: Hint[] } {
  return advanceHints(state, frame, findHints(frame, state.recent, rules, thresholds), rules, thresholds);
}
