// Prints the dump schema as a Markdown table from the metric catalog, for the README:
//   npx tsx scripts/schema-doc.ts
import { METRICS } from '../src/model/metrics.js';

const rows = METRICS.map((m) => `| \`${m.id}\` | ${m.unit} | ${m.sources.map((s) => `\`${s}\``).join(', ') || '—'} | ${m.meaning} |`);
process.stdout.write(['| field | unit | from | meaning |', '|---|---|---|---|', ...rows].join('\n') + '\n');
