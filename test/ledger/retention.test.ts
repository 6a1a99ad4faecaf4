import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { applyRecords, ledgerFixture, type LedgerFixture } from './helpers.js';

let fixture: LedgerFixture;
let clock: Date;
const now = () => clock;

beforeEach(async () => {
  fixture = await ledgerFixture();
  clock = new Date('2026-01-10T12:00:00Z');
});

afterEach(async () => {
  await fixture.cleanup();
});

async function command(target: string, count: number, at: string) {
  clock = new Date(at);
  const ledger = await fixture.open({ now });
  await ledger.append(applyRecords(target, count));
  await ledger.close();
}

describe('retention pruning', () => {
  it('removes old records and keeps the rest verifiable', async () => {
    await command('prod/app', 2, '2026-01-10T12:00:00Z');
    await command('prod/app', 2, '2026-02-10T12:00:00Z');
    await command('prod/app', 2, '2026-06-10T12:00:00Z');

    clock = new Date('2026-06-11T00:00:00Z');
    const pruner = await fixture.open({ now });
    const result = await pruner.prune(new Date('2026-03-01T00:00:00Z'));
    await pruner.close();

    // Genesis, signer, two commands of 2 changes + summary + checkpoint: 2 + 4 + 4 records.
    expect(result).toMatchObject({ before: 10, removed: 10 });
    const lines = await fixture.lines();
    expect((JSON.parse(lines[0]) as { seq: number }).seq).toBe(10);
    const kinds = lines.map((line) => (JSON.parse(line) as { kind: string }).kind);
    expect(kinds.slice(-2)).toEqual(['retention.prune', 'ledger.checkpoint']);

    const report = await (await fixture.open({ now })).verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.firstSeq).toBe(10);

    // Appending and verifying keep working from the marker on.
    await command('prod/app', 1, '2026-06-12T12:00:00Z');
    const later = await (await fixture.open({ now })).verify();
    expect(later.problems).toEqual([]);
    expect(later.ok).toBe(true);

    const proof = await (await fixture.open({ now })).proveInclusion(12);
    expect(proof.verified).toBe(true);
  });

  it('detects records removed without a marker', async () => {
    await command('prod/app', 2, '2026-01-10T12:00:00Z');
    await command('prod/app', 2, '2026-02-10T12:00:00Z');
    const lines = await fixture.lines();
    await fixture.writeLines(lines.slice(3));

    const report = await (await fixture.open({ now })).verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(0);
    expect(report.problems[0].code).toBe('pruned-without-marker');
  });

  it('refuses to prune a ledger that does not verify', async () => {
    await command('prod/app', 2, '2026-01-10T12:00:00Z');
    await command('prod/app', 2, '2026-06-10T12:00:00Z');
    const lines = await fixture.lines();
    lines[3] = lines[3].replace('public.t1', 'public.t7');
    await fixture.writeLines(lines);

    const pruner = await fixture.open({ now });
    await expect(pruner.prune(new Date('2026-03-01T00:00:00Z'))).rejects.toThrow(/refusing to prune .* does not verify \(record seq 3 was changed/);
    expect(await fixture.lines()).toEqual(lines);
  });
});
