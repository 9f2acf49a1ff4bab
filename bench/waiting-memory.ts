/**
 * What a record costs the producer's memory while it waits for the connection or its topic's metadata: the case of
 * a service whose first calls come before the cluster answers, or whose cluster does not answer for a while. Records
 * that wait are the callers' pending calls, outside `maxBufferedBytes` (README), so their cost per record is what
 * bounds such a wait.
 *
 * The built producer (dist/, or `--dist DIR` for another build) is pointed at a server on 127.0.0.1 that accepts
 * connections and never answers, so every record waits for the connection. The records (100 B values sharing one
 * Buffer, made before the first measure and kept to the end) are sent as `--calls` sendBatch calls of `--records`
 * each, then as many single sends; after each, with the submit backlog through, the main thread's heap and
 * ArrayBuffers are measured after full collections, and the growth is divided by the records waiting. Run:
 *
 *   npm run -s build && node --expose-gc --import tsx bench/waiting-memory.ts [--calls 50 --records 10000] [--dist DIR]
 */
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '50' },
    records: { type: 'string', default: '10000' },
    dist: { type: 'string', default: fileURLToPath(new URL('../dist', import.meta.url)) },
  },
});
const calls = Number(args.calls);
const perCall = Number(args.records);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const { Producer } = (await import(`${args.dist}/src/main/index.js`)) as typeof import('../src/main/index.js');

const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
});
silent.listen(0, '127.0.0.1');
await once(silent, 'listening');
const { port } = silent.address() as { port: number };

const value = Buffer.alloc(100, 'v');
const batches = Array.from({ length: calls }, () => Array.from({ length: perCall }, () => ({ topic: 'waiting', value })));
const singles = batches.flat();

/** Main-thread memory after full collections, MiB of heap used and of ArrayBuffers. */
async function measure(): Promise<{ heap: number; arrayBuffers: number }> {
  // The submit backlog places a call's records 2,048 per turn; every record must be waiting before the measure.
  for (let i = 0; i < (calls * perCall) / 2048 + 20; i++) await nextTurn();
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
}

const producer = new Producer({ brokers: `127.0.0.1:${port}`, workers: 1, bufferTimeoutMs: 600_000, requestTimeoutMs: 120_000 });
const pending: Promise<unknown>[] = [];
const before = await measure();
for (const batch of batches) pending.push(producer.sendBatch(batch));
const afterBatches = await measure();
// Without a handler of their own (a .catch() would add a promise per send to the measure): close fails them.
process.on('unhandledRejection', () => undefined);
for (const record of singles) void producer.send(record);
const afterSends = await measure();

const count = calls * perCall;
const per = (bytes: number): string => `${(bytes / count).toFixed(0)} bytes`;
console.log(`${count.toLocaleString('en')} records of 100 B waiting for the connection (${args.dist}):`);
console.log(`  sendBatch (${calls} calls of ${perCall.toLocaleString('en')}): heap ${per(afterBatches.heap - before.heap)}, ArrayBuffers ${per(afterBatches.arrayBuffers - before.arrayBuffers)} a record`);
console.log(`  send (one call each):      heap ${per(afterSends.heap - afterBatches.heap)}, ArrayBuffers ${per(afterSends.arrayBuffers - afterBatches.arrayBuffers)} a record`);

await producer.close({ timeoutMs: 0 });
await Promise.allSettled(pending);
for (const socket of sockets) socket.destroy();
silent.close();
