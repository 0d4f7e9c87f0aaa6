// `tunscope tui FILE`: browse a capture in a terminal UI: its tunnels (each
// direction, or both as conversations), their inner flows, packets, one
// packet's layers beside its bytes, and the payload of a TCP or UDP stream.
// `capture IFACE --tui` shows a live capture the same way (runLiveTui).

import type { Command } from 'commander';
import { prepareDecode, type PreparedDecode } from '../pipeline.js';
import { readCaptureFile } from '../sources/file.js';
import { UsageError } from '../errors.js';
import { IndexedCaptureFile } from '../tui/capture-index.js';
import { DEFAULT_RING_PACKETS, PacketRing } from '../tui/packet-ring.js';
import type { LiveFeed, TuiStore } from '../tui/store.js';
import { addDecodeOptions, decodeOptionsOf, positiveInteger, type DecodeFlags } from './options.js';
import { mtuValue } from './stats.js';

interface TuiFlags extends DecodeFlags {
  maxFlows?: number;
  mtu: number;
}

export { DEFAULT_RING_PACKETS };

function requireTerminal(): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError('the terminal UI needs a terminal on standard input and output; for a report, use `tunscope stats`');
  }
}

/**
 * Ink draws nothing but a final frame when it believes it runs under CI, and
 * React checks every render twice over unless told it runs in production. A
 * terminal UI on a terminal must draw as it goes, and quickly, so the screen
 * module is loaded only after the environment of this process says so.
 */
async function loadScreen(): Promise<typeof import('../tui/screen.js') & typeof import('../tui/store.js')> {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  process.env.NODE_ENV ??= 'production';
  const [screen, store] = await Promise.all([import('../tui/screen.js'), import('../tui/store.js')]);
  return { ...screen, ...store };
}

async function runTui(file: string, flags: TuiFlags): Promise<void> {
  if (file === '-') {
    throw new UsageError('the terminal UI reads a capture file, not standard input (its keys come through standard input)');
  }
  const prepared = prepareDecode(decodeOptionsOf(flags));
  // A missing or unreadable file, or one that is not a capture, fails here, before the screen changes.
  readCaptureFile(file, () => false);
  requireTerminal();
  const { showTerminalUi, TuiStore } = await loadScreen();
  const store: TuiStore = TuiStore.forFile(new IndexedCaptureFile(file), {
    prepared, filterText: flags.filter ?? '', maxFlows: flags.maxFlows, mtu: flags.mtu,
  });
  await showTerminalUi(store);
}

export interface LiveTuiOptions {
  /** The interface name, for the header. */
  name: string;
  source: LiveFeed['source'];
  prepared: PreparedDecode;
  filterText: string;
  /** Packets kept for the packet views. */
  ringPackets: number;
  drops?: () => number | null;
  interfaces?: LiveFeed['interfaces'];
}

/** The terminal UI over a live capture; resolves when the user quits. */
export async function runLiveTui(options: LiveTuiOptions): Promise<void> {
  requireTerminal();
  const { showTerminalUi, TuiStore } = await loadScreen();
  const store: TuiStore = TuiStore.forLive(
    {
      name: options.name, source: options.source, ring: new PacketRing(options.ringPackets), drops: options.drops, interfaces: options.interfaces,
    },
    { prepared: options.prepared, filterText: options.filterText },
  );
  await showTerminalUi(store);
}

export function defineTuiCommand(program: Command): void {
  const command = program
    .command('tui')
    .description('browse a capture in a terminal UI: tunnels, conversations, flows, packets, each packet\'s layers beside its bytes, streams')
    .argument('<file>', 'a pcap or pcapng file');
  command
    .option('--mtu <bytes>', 'the underlay MTU findings measure against', mtuValue, 1500)
    .option('--max-flows <n>', 'most flows kept; further flows are summed in one overflow row per tunnel (default 1000000)',
      positiveInteger);
  addDecodeOptions(command).action(runTui);
}
