// Runs the rules over a sequence of frames with hysteresis and minimum durations. Pure: the state
// between frames is a value passed in and returned, so live, replay and dump give the same hints.
import type { Frame } from '../model/frame.js';
import { RULES } from './rules/index.js';
import { THRESHOLDS } from './thresholds.js';
import type { Thresholds } from './thresholds.js';
import { MAX_MESSAGE_CHARS } from './types.js';
import type { Finding, Hint, HintRule, HintSubject, Severity } from './types.js';

/** Frames a hint stays after its condition is gone (so a single dip does not hide it). */
const OFF_FRAMES = 2;

/** What the engine remembers about one (rule, subject). */
interface Track {
  ruleIndex: number;
  onStreak: number;
  offStreak: number;
  active: boolean;
  /** Frame count at which the hint became active (for "hint starts here" navigation). */
  since: number;
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
}

/** The state before the first frame. */
export function initialHintState(): HintState {
  return { frames: 0, tracks: new Map(), recent: [] };
}

function subjectKey(s: HintSubject): string {
  return `${s.kind}:${s.id ?? ''}`;
}

/** A message as one line of at most MAX_MESSAGE_CHARS characters (a rule's numbers come first). */
function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ');
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS - 1)}…` : line;
}

const SEVERITY_RANK: Record<Severity, number> = { crit: 0, warn: 1, info: 2 };

/** Evaluates every rule on `frame`; returns the new state and the active hints, most severe first. */
export function evaluateHints(
  state: HintState,
  frame: Frame,
  rules: readonly HintRule[] = RULES,
  thresholds: Thresholds = THRESHOLDS,
): { state: HintState; hints: Hint[] } {
  const frames = state.frames + 1;
  const tracks = new Map<string, Track>();
  const seen = new Set<string>();
  rules.forEach((rule, ruleIndex) => {
    for (const finding of rule.evaluate(frame, thresholds, state.recent)) {
      const key = `${rule.id}|${subjectKey(finding.subject)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const old = state.tracks.get(key);
      const onStreak = finding.level === 'on' ? (old?.onStreak ?? 0) + 1 : old?.active ? old.onStreak : 0;
      const active = (old?.active ?? false) || onStreak >= rule.minFrames;
      if (!active && onStreak === 0) continue;
      tracks.set(key, { ruleIndex, onStreak, offStreak: 0, active, since: old?.active ? old.since : frames, last: finding });
    }
  });
  for (const [key, old] of state.tracks) {
    if (seen.has(key) || !old.active || old.offStreak + 1 >= OFF_FRAMES) continue;
    tracks.set(key, { ...old, onStreak: 0, offStreak: old.offStreak + 1 });
  }
  const hints: Array<Hint & { order: number }> = [];
  for (const t of tracks.values()) {
    if (t.active) hints.push({ id: rules[t.ruleIndex].id, severity: t.last.severity, subject: t.last.subject, message: oneLine(t.last.message), explain: t.last.explain, order: t.ruleIndex });
  }
  hints.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.order - b.order || (a.subject.id ?? 0) - (b.subject.id ?? 0));
  const recent = [...state.recent, { ...frame, threads: [], processes: [] }].slice(-RECENT_FRAMES);
  return { state: { frames, tracks, recent }, hints: hints.map(({ order: _order, ...h }) => h) };
}
