import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuBetween, parseStatCpu, parseVmHwmMB, watch } from '../../../bench/lib/process-watch.js';

describe('/proc parsing', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    // fields 14 and 15 are 250 and 50 ticks
    const stat = '1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 200';
    assert.equal(parseStatCpu(stat), 3);
  });

  it('reads VmHWM in MiB', () => {
    assert.equal(parseVmHwmMB('Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1000 kB\n'), 200);
    assert.equal(parseVmHwmMB('Name:\tnode\n'), undefined);
  });
});

describe('cpuBetween', () => {
  const samples = [
    { at: 0, cpuSec: 0 },
    { at: 100, cpuSec: 1 },
    { at: 200, cpuSec: 1.5 },
  ];

  it('interpolates between samples', () => {
    assert.equal(cpuBetween(samples, 50, 150), 0.75);
  });

  it('holds the last sample after the end and is undefined before the start', () => {
    assert.equal(cpuBetween(samples, 100, 500), 0.5);
    assert.equal(cpuBetween(samples, -10, 100), undefined);
  });
});

describe('watch', () => {
  it('collects stdout lines, the exit code and samples of a child', async () => {
    const run = await watch(process.execPath, ['-e', 'let x = 0; for (let i = 0; i < 3e7; i++) x += i; console.log("done", x > 0)'], {
      cwd: process.cwd(),
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 0);
    assert.equal(run.timedOut, false);
    assert.deepEqual(run.lineTimes.map((l) => l.line), ['done true']);
    assert.ok(run.cpu.length >= 1);
    assert.ok((run.peakRssMB ?? 0) > 1);
  });

  it('kills a child that outlives its time', async () => {
    const run = await watch(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { cwd: process.cwd(), timeoutMs: 200 });
    assert.equal(run.timedOut, true);
    assert.equal(run.signal, 'SIGKILL');
  });
});
