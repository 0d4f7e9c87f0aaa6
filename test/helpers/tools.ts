// Outside tools the tests use as oracles (tshark, tcpdump, scapy) and the
// peer captures beside the project. Missing in a plain clone: the test is
// skipped with a visible notice. Missing under CI: the test fails.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(PROJECT_ROOT, 'fixtures');
export const PEER_CAPTURES = path.resolve(PROJECT_ROOT, '../shared/peer-captures/tcpdump');

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * True when the requirement is met. Otherwise: under CI, throws (the test
 * fails); elsewhere, prints why the test is skipped and returns false.
 */
export function requireOrSkip(met: boolean, what: string): boolean {
  if (met) return true;
  if (process.env.CI) throw new Error(`${what} is required under CI`);
  console.warn(`SKIPPED: ${what} is not available here`);
  return false;
}

export const haveTshark = hasCommand('tshark');
export const havePeerCaptures = fs.existsSync(PEER_CAPTURES);

/** Capture files in a folder, by name. */
export function capturesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((name) => /\.(pcap|pcapng)$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Run tshark with IP reassembly off and UDP 8472 decoded as VXLAN, as tunscope does. */
export function tshark(file: string, args: string[]): string {
  const result = spawnSync('tshark', [
    '-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE',
    '-d', 'udp.port==8472,vxlan', ...args,
  ], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (result.status !== 0) throw new Error(`tshark failed on ${file}: ${result.stderr}`);
  return result.stdout;
}
