// Every hint rule, in the order hints of equal severity are listed.
import type { HintRule } from '../types.js';
import { CPU_RULES } from './cpu.js';
import { IO_RULES } from './io.js';
import { MEMORY_RULES } from './memory.js';
import { THREAD_RULES } from './threads.js';

/** All rules the engine runs. */
export const RULES: readonly HintRule[] = [...MEMORY_RULES, ...CPU_RULES, ...IO_RULES, ...THREAD_RULES];
