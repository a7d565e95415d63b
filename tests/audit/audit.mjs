// Runs the graphql-http server audit against a GraphQL endpoint and prints
// one line per audit. Exits 1 when a MUST audit fails.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
for (const r of results) {
  counts[r.status] += 1;
  const line = `${r.status.padEnd(6)} ${r.id} ${r.name}`;
  console.log(r.reason ? `${line} — ${r.reason}` : line);
}
console.log(`audits: ${results.length}; ok ${counts.ok}, SHOULD not met ${counts.warn}, MAY not met ${counts.notice}, MUST failed ${counts.error}`);
process.exit(counts.error > 0 ? 1 : 0);
