// Running and timing the benchmark's commands: wall time and peak resident
// memory of a child process, medians, tables, and the files a run made.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TIME = '/usr/bin/time';

export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function firstLine(command, args) {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  return `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n').find((line) => line.trim() !== '' && !line.startsWith('Running as user')) ?? '';
}

/** Reads the whole file once so every command finds it in the page cache; returns the seconds it took the second time. */
export function warmCache(file) {
  const buffer = Buffer.alloc(8 << 20);
  const readAll = () => {
    const fd = fs.openSync(file, 'r');
    try {
      while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      fs.closeSync(fd);
    }
  };
  readAll();
  const started = process.hrtime.bigint();
  readAll();
  return seconds(started);
}

// ---------------------------------------------------------------------------
// Running a command

export function seconds(startedNs) {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}

export function mb(bytes) {
  return (bytes / 1e6).toFixed(1);
}

export function log(text) {
  process.stderr.write(`bench: ${text}\n`);
}

/** The kernel's high-water mark of resident memory, in kB, or 0 when the process is gone. */
export function residentHighWater(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs argv with stdout to /dev/null, stopped after `timeoutMs` when given. Resolves to { seconds, peakKb, ok, error }.
 * Wall time covers the whole process, start-up included.
 */
export function timeCommand(argv, timeoutMs = 0) {
  const useTime = fs.existsSync(TIME);
  const report = useTime ? path.join(os.tmpdir(), `tunscope-bench-time-${process.pid}.txt`) : null;
  const command = useTime ? TIME : argv[0];
  const commandArgs = useTime ? ['-f', '%M', '-o', report, ...argv] : argv.slice(1);
  return new Promise((resolve) => {
    const devNull = fs.openSync('/dev/null', 'w');
    const started = process.hrtime.bigint();
    // In a process group of its own, so that a timeout stops the command itself and not only /usr/bin/time.
    const child = spawn(command, commandArgs, { stdio: ['ignore', devNull, 'pipe'], detached: timeoutMs > 0 });
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, timeoutMs) : null;
    fs.closeSync(devNull);
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    let polledKb = 0;
    const poll = useTime ? null : setInterval(() => {
      polledKb = Math.max(polledKb, residentHighWater(child.pid));
    }, 20);
    child.on('error', (err) => resolve({ seconds: seconds(started), peakKb: 0, ok: false, error: err.message }));
    child.on('close', (code, signal) => {
      const elapsed = seconds(started);
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      let peakKb = polledKb;
      if (report) {
        try {
          const lines = fs.readFileSync(report, 'utf8').trim().split('\n');
          peakKb = Number(lines[lines.length - 1]) || 0;
          fs.rmSync(report, { force: true });
        } catch {
          peakKb = 0;
        }
      }
      const ok = code === 0;
      const error = ok ? null : timedOut ? `stopped after ${timeoutMs / 1000} s` : (stderr.split('\n').find((line) => line.trim() !== '' && !line.includes('Command exited')) ?? `exit ${code ?? signal}`);
      resolve({ seconds: elapsed, peakKb, ok, error });
    });
  });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function table(rows, header) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function ratioText(ratio) {
  return `${ratio.toFixed(2)}x`;
}

/** Removes the captures this run made (all of them, or only `file` and its truth). */
export function removeMade(made, file) {
  for (let i = made.length - 1; i >= 0; i--) {
    const f = made[i];
    if (file !== undefined && f !== file && f !== `${file}.truth.json`) continue;
    fs.rmSync(f, { force: true });
    made.splice(i, 1);
  }
}

