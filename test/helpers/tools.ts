// Outside tools the tests use as oracles (tshark, tcpdump, scapy), the peer
// captures beside the project, and what live capture needs of the machine
// (root, network namespaces, tunscope's libpcap binding). Missing in a plain clone: the
// test is skipped with a visible notice. Missing under CI: the test fails.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(PROJECT_ROOT, 'fixtures');
/** tcpdump's test captures, kept beside the project and read in place. */
export const PEER_CAPTURES = path.resolve(PROJECT_ROOT, '../shared/peer-captures/tcpdump');

/** Captures that once made tunscope fail (an internal error, a silent short file), kept beside the project and read in place. */
export const RELIABILITY_CASES = path.resolve(PROJECT_ROOT, '../shared/reliability-cases');
export const haveReliabilityCases = fs.existsSync(RELIABILITY_CASES);

export function reliabilityCase(name: string): string {
  return path.join(RELIABILITY_CASES, name);
}

export function peerCapture(name: string): string {
  return path.join(PEER_CAPTURES, name);
}

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

export const isRoot = process.getuid?.() === 0;

/** Whether the libpcap binding is built and loads. */
export { liveCaptureAvailable } from '../../src/sources/live.js';

/** Whether this process can make network namespaces: root, and a kernel and container that allow them. */
export function netnsWorks(): boolean {
  if (!isRoot) return false;
  const probe = `tsprobe${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { stdio: 'ignore' }).status === 0;
  if (added) spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  return added;
}

/** Capture files in a folder, by name; with `recursive`, in its sub-folders too. */
export function capturesIn(dir: string, recursive = false): string[] {
  if (!fs.existsSync(dir)) return [];
  const names = fs.readdirSync(dir, { recursive }) as string[];
  return names
    .filter((name) => /\.(pcap|pcapng)$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Runs a command and returns its stdout, failing the test with its stderr when it fails. */
export function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Run tshark with IP reassembly off and UDP 8472 decoded as VXLAN, as tunscope does. */
export function tshark(file: string, args: string[]): string {
  return run('tshark', [
    '-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-d', 'udp.port==8472,vxlan', ...args,
  ]);
}

/** Run tshark as it runs by default, reassembling IP fragments, with UDP 8472 decoded as VXLAN. */
export function tsharkReassembling(file: string, args: string[]): string {
  return run('tshark', ['-r', file, '-d', 'udp.port==8472,vxlan', ...args]);
}
