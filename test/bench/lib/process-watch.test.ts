import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { cpuBetween, killRunning, parseSchedstatSec, parseSchedstatWaitSec, parseStatCpu, parseVmHwmMB, readThreadCpu, watch } from '../../../bench/lib/process-watch.js';

describe('/proc parsing', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    // fields 14 and 15 are 250 and 50 ticks
    const stat = '1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 200';
    assert.equal(parseStatCpu(stat), 3);
  });

  it('reads a thread\'s time on the CPU from schedstat, in seconds', () => {
    assert.equal(parseSchedstatSec('1500000000 2000 30\n'), 1.5);
    assert.throws(() => parseSchedstatSec('garbage'), /not a schedstat line/);
  });

  it('reads the time a thread waited for a CPU from schedstat\'s second field, in seconds', () => {
    assert.equal(parseSchedstatWaitSec('1500000000 250000000 30\n'), 0.25);
    assert.throws(() => parseSchedstatWaitSec('1500000000'), /not a schedstat line/);
  });

  it('reads this process\'s main thread (Linux only)', { skip: process.platform !== 'linux' }, () => {
    const cpu = readThreadCpu(process.pid);
    assert.ok(cpu !== undefined && cpu.sec > 0, JSON.stringify(cpu));
    if (cpu.source === 'schedstat') assert.ok(cpu.waitSec !== undefined && cpu.waitSec >= 0, JSON.stringify(cpu));
    assert.equal(readThreadCpu(2 ** 30), undefined);
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

  it('kills the children still running when the bench is interrupted, and none that have exited', async () => {
    const done = await watch(process.execPath, ['-e', ''], { cwd: process.cwd(), timeoutMs: 30_000 });
    assert.equal(done.code, 0);
    const started = Date.now();
    const running = watch(process.execPath, ['-e', 'setTimeout(() => {}, 60_000); console.log("up")'], { cwd: process.cwd(), timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    killRunning();
    const run = await running;
    assert.equal(run.signal, 'SIGKILL');
    assert.equal(run.timedOut, false);
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('ownPeakRssMB', () => {
  it('is the peak of the program itself, not the resident set of the process that spawned it', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
    // 256 MiB written, so resident in this process when it spawns the child (getrusage's maxrss would carry it over)
    const ballast = Buffer.alloc(256 * 1024 * 1024, 1);
    const module = new URL('../../../bench/lib/process-watch.ts', import.meta.url).href;
    const code = `import(${JSON.stringify(module)}).then((m) => console.log(JSON.stringify({ own: m.ownPeakRssMB(), maxRss: process.resourceUsage().maxRSS / 1024 })))`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { own, maxRss } = JSON.parse(child.stdout) as { own: number; maxRss: number };
    assert.ok(own > 0 && own < 200, `a small Node program's own peak, got ${own} MiB (its getrusage maxrss: ${maxRss} MiB; ballast ${ballast.length >> 20} MiB)`);
  });
});

