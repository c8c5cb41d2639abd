// Making kernel-supplied strings safe for a terminal and for text formats.

const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g;

/** Replaces C0/C1 control characters and DEL with visible `\xNN` escapes (names are bytes from the kernel). */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_RE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const JSON_UNSAFE_RE = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * JSON.stringify, with DEL, C1 controls and line separators also written as \u escapes: the text
 * stays exact for a JSON reader, and no raw control character reaches a terminal.
 */
export function toSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
