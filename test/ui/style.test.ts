import { describe, expect, it } from 'vitest';
import { adaptToColors, esc, paint, tone } from '../../src/ui/style.js';

describe('style: tones and escaping', () => {
  it('opens a tone\'s tags and closes them in reverse order', () => {
    expect(tone('selected', 'x')).toBe('{black-fg}{cyan-bg}x{/cyan-bg}{/black-fg}');
    expect(tone('warn', '')).toBe('');
  });

  it('escapes braces so that text never opens a tag', () => {
    expect(esc('a{b}c')).toBe('a{open}b{close}c');
    expect(esc('plain')).toBe('plain');
    expect(paint('crit', '{x')).toBe('{red-fg}{open}x{/red-fg}');
  });

  it('re-makes the tags when the theme adapts to an 8-colour terminal', () => {
    expect(tone('dim', 'x')).toBe('{light-black-fg}x{/light-black-fg}');
    adaptToColors(8);
    expect(tone('dim', 'x')).toBe('{white-fg}x{/white-fg}');
    expect(tone('iowait', 'x')).toBe('{white-fg}x{/white-fg}');
  });
});
