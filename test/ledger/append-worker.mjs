// Appends records from a separate process, for the concurrent-writer tests. Plain JavaScript so
// that it runs with bare node against the compiled ledger module.
//
// Usage: node append-worker.mjs <ledger module> <json options> <worker id> <count>

const [modulePath, optionsJson, workerId, countText] = process.argv.slice(2);
const { openLedger } = await import(modulePath);

const options = JSON.parse(optionsJson);
const count = Number(countText);
const ledger = await openLedger({ ...options, env: { ...process.env, HOME: options.home ?? process.env.HOME } });

for (let index = 0; index < count; index += 1) {
  await ledger.append([
    {
      kind: 'apply.change',
      target: `worker-${workerId}`,
      address: `worker-${workerId}: change ${index}`,
      details: { worker: Number(workerId), index },
      outcome: 'ok',
    },
  ]);
  // Some checkpoints in the middle, so that checkpoints race with appends too.
  if (index % 10 === 9) {
    await ledger.checkpoint();
  }
}
await ledger.close();
