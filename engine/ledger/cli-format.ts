import { describeActor } from './actor.js';
import type { Finding } from './anomalies.js';
import type { LedgerSummary } from './summary.js';
import type { LedgerRecord } from './types.js';
import type { VerifyReport } from './verify.js';
import { escapeControls } from './escape-text.js';

/**
 * Joins output lines with every control and bidirectional formatting character escaped, because
 * record fields come from CI variables, addresses and vault names that anyone may have set.
 */
function printable(lines: string[]): string {
  return `${lines.map(escapeControls).join('\n')}\n`;
}

/** Formats a record as one line (no newline, controls escaped): seq, time, kind, outcome, actor and the changed object. */
export function renderRecordLine(record: LedgerRecord): string {
  const changed = record.address ?? record.target ?? '';
  const line = [
    `#${record.seq}`.padStart(7),
    record.time,
    record.kind.padEnd(17),
    (record.outcome ?? '-').padEnd(11),
    describeActor(record.actor),
    changed ? ` ${changed}` : '',
  ].join(' ');
  return escapeControls(line);
}

/** Formats every field of one record, with details as indented JSON. */
export function renderRecordFull(record: LedgerRecord): string {
  const ci = record.actor.ci;
  const lines = [
    `seq       ${record.seq}`,
    `time      ${record.time}`,
    `kind      ${record.kind}`,
    `actor     ${record.actor.user}@${record.actor.host}`,
    ...(ci
      ? [
          `ci        ${ci.system}${ci.pipeline ? ` ${ci.pipeline}` : ''}${ci.run ? ` run ${ci.run}` : ''}`,
          ...(ci.commit ? [`commit    ${ci.commit}${ci.branch ? ` (${ci.branch})` : ''}`] : []),
          ...(ci.triggeredBy ? [`by        ${ci.triggeredBy}`] : []),
          ...(ci.url ? [`url       ${ci.url}`] : []),
        ]
      : []),
    `run       ${record.run}`,
    ...(record.target ? [`target    ${record.target}`] : []),
    ...(record.address ? [`address   ${record.address}`] : []),
    ...(record.outcome ? [`outcome   ${record.outcome}`] : []),
    ...(record.masked ? [`masked    ${record.masked.join(', ')}`] : []),
    `prev      ${record.prev}`,
  ];
  // JSON.stringify writes a newline inside a string as \n, so the raw newlines here are layout.
  const details = JSON.stringify(record.details, null, 2).split('\n').map(escapeControls).join('\n          ');
  return `${printable(lines)}details   ${details}\n`;
}

export function renderVerify(report: VerifyReport): string {
  const lines: string[] = [];
  const last = report.size - 1;
  if (report.ok) {
    lines.push(`ledger ${report.location}: intact`);
  } else {
    const first = report.firstBadSeq === undefined ? '' : `, first bad record: seq ${report.firstBadSeq}`;
    lines.push(`ledger ${report.location}: NOT intact${first}`);
  }

  const range = report.size === 0 ? 'no records' : `seq ${report.firstSeq}..${last}`;
  lines.push(`  records     ${report.size - report.firstSeq} (${range}${report.firstSeq > 0 ? `, seq 0..${report.firstSeq - 1} pruned` : ''})`);
  const latest = report.latestCheckpoint ? `, latest at seq ${report.latestCheckpoint.seq}` : '';
  lines.push(`  checkpoints ${report.checkpoints}${latest}`);
  for (const anchor of report.anchors) {
    const size = anchor.size === undefined ? '' : ` (size ${anchor.size})`;
    lines.push(`  anchor      ${anchor.source}: ${anchor.status}${size}`);
  }
  if (report.signers.length > 0) {
    lines.push(`  signed by   ${report.signers.join(', ')}`);
  }
  for (const problem of report.problems) {
    lines.push(`error: ${problem.message}`);
  }
  for (const warning of report.warnings) {
    lines.push(`warning: ${warning}`);
  }
  return printable(lines);
}

function table(title: string, counts: Record<string, number>, limit = 10): string[] {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0) {
    return [];
  }
  const rows = entries.slice(0, limit).map(([key, count]) => `  ${String(count).padStart(6)}  ${key}`);
  const more = entries.length > limit ? [`          (${entries.length - limit} more)`] : [];
  return [title, ...rows, ...more];
}

export function renderSummary(summary: LedgerSummary): string {
  const lines = [
    `audit summary ${summary.since} .. ${summary.until}: ${summary.events} events`,
    ...table('by actor', summary.byActor),
    ...table('by operation', summary.byOperation),
    ...table('by target', summary.byTarget),
    `applies     ${summary.applies.changes} changes, ${summary.applies.failed} failed, ${summary.applies.rolledBack} rolled back` +
      (summary.applies.failedSeqs.length > 0 ? ` (failed: ${summary.applies.failedSeqs.map((seq) => `#${seq}`).join(' ')})` : ''),
    `drift found ${summary.drift.found}`,
    ...table('drift by target', summary.drift.byTarget),
    `vault       ${summary.vault.reads} entry reads, ${summary.vault.writes} writes, ${summary.vault.unlocks} unlocks, ${summary.vault.failedUnlocks} failed unlocks`,
    ...table('vault reads by entry', summary.vault.readsByEntry),
    ...table('vault reads by actor', summary.vault.readsByActor),
  ];
  return printable(lines);
}

export function renderAnomalies(findings: Finding[], records: Map<number, LedgerRecord>): string {
  if (findings.length === 0) {
    return 'no anomalies found\n';
  }
  const lines: string[] = [];
  for (const finding of findings) {
    lines.push(`${finding.severity.toUpperCase()} ${finding.rule}: ${finding.message}`);
    const shown = finding.seqs.slice(0, 20);
    for (const seq of shown) {
      const record = records.get(seq);
      if (record) {
        lines.push(`  ${renderRecordLine(record)}`);
      }
    }
    if (finding.seqs.length > shown.length) {
      lines.push(`  (${finding.seqs.length - shown.length} more records: aishell audit show SEQ)`);
    }
  }
  return printable(lines);
}
