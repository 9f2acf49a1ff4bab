import { Session } from 'node:inspector';
import { createRing, RingReader } from './src/shared/ring.ts';
import { RecordFeed } from './src/main/record-feed.ts';
import { prepareRecord } from './src/main/serialize.ts';
const ring = createRing({ capacity: 16 * 1024 * 1024 } as any);
const feed = new RecordFeed(ring);
const reader = new RingReader(ring);
const topic = { index: 1, name: 't' } as any;
const value = Buffer.alloc(100, 65);
const prepared = prepareRecord({ topic: 't', value }, null, +(process.env.TS ?? Date.now()));
function round(n: number) {
  for (let i = 0; i < n; i++) feed.write(i & 0xffff, topic, 0, prepared);
  feed['wake']?.call(feed);
  (feed as any).wake();
  while (reader.read() >= 0) {} reader.release();
}
for (let i = 0; i < 2000; i++) round(1000);
const s = new Session(); s.connect();
const post = (m: string, p?: any) => new Promise<any>((res, rej) => s.post(m, p, (e, r) => e ? rej(e) : res(r)));
await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < 2000; i++) round(1000);
const { profile } = await post('HeapProfiler.stopSampling');
const self = new Map<string, number>(); let total = 0;
(function walk(n: any) { const f = n.callFrame; const name = (f.functionName || '(anon)') + ' ' + f.url.split('/').slice(-1) + ':' + f.lineNumber; total += n.selfSize; if (n.selfSize) self.set(name, (self.get(name) ?? 0) + n.selfSize); for (const c of n.children) walk(c); })(profile.head);
console.log('bytes per record', (total / 2e6).toFixed(1));
[...self].sort((a, b) => b[1] - a[1]).slice(0, 8).forEach(([k, v]) => console.log((v / 2e6).toFixed(1).padStart(7), k));
