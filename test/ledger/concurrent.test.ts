import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildLedgerForWorkers, ledgerFixture, runAppendWorkers } from './helpers.js';

let build: Awaited<ReturnType<typeof buildLedgerForWorkers>>;

beforeAll(async () => {
  build = await buildLedgerForWorkers();
});

afterAll(async () => {
  await build.cleanup();
});

describe('concurrent file writers', () => {
  it('four processes lose nothing and keep one chain', async () => {
    const fixture = await ledgerFixture();
    try {
      await runAppendWorkers(build.modulePath, { path: fixture.path, keyPath: fixture.keyPath, anchorPath: fixture.anchorPath, home: fixture.dir }, 4, 40);

      const ledger = await fixture.open();
      const report = await ledger.verify();
      const records = await ledger.read({ kind: 'apply.change' });
      await ledger.close();

      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.anchors[0]?.status).toBe('ok');

      expect(records.length).toBe(160);
      for (let worker = 0; worker < 4; worker += 1) {
        const indexes = records.filter((record) => record.details.worker === worker).map((record) => record.details.index);
        expect(indexes, `worker ${worker}`).toEqual(Array.from({ length: 40 }, (_, index) => index));
      }

      const lines = await fixture.lines();
      const seqs = lines.map((line) => (JSON.parse(line) as { seq: number }).seq);
      expect(seqs).toEqual(Array.from({ length: lines.length }, (_, index) => index));
      expect(lines.filter((line) => line.includes('"kind":"ledger.open"')).length).toBe(1);
      expect(lines.filter((line) => line.includes('"kind":"ledger.signer"')).length).toBe(1);
    } finally {
      await fixture.cleanup();
    }
  });
});
