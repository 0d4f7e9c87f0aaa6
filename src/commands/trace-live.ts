// The capture of `trace --duration|-c IFACE...`: every interface at once,
// written to one pcapng with an interface block per point, as `capture -w`
// writes it, until the time is up, enough packets were seen, or Ctrl-C.

import { MAX_SNAPLEN } from '../sources/live.js';
import { LiveCapture } from '../sources/live-capture.js';
import { parseInterfaceSpec } from '../sources/netns.js';
import { countLine, listeningLine, openLiveWriter } from './capture-report.js';
import { warn } from './options.js';

/** The ring per interface, as `capture` has it by default. */
const BUFFER_BYTES = 32 * 1024 * 1024;

export async function captureToFile(interfaces: string[], file: string, until: { duration?: number; count?: number }): Promise<void> {
  const live = LiveCapture.open({
    interfaces: interfaces.map(parseInterfaceSpec), kernelFilter: '', snaplen: MAX_SNAPLEN, promisc: true, bufferBytes: BUFFER_BYTES,
  });
  let writer;
  try {
    writer = openLiveWriter(live, file, 'pcapng', MAX_SNAPLEN);
  } catch (err) {
    live.stop();
    throw err;
  }
  const end = (): void => live.end();
  process.on('SIGINT', end);
  process.on('SIGTERM', end);
  warn(listeningLine(live.interfaces));
  live.onWarning = (message) => warn(`warning: ${message}`);
  const timer = until.duration === undefined ? null : setTimeout(end, until.duration * 1000);
  let seen = 0;
  try {
    await live.source((record) => {
      writer.write(record, record.linktype);
      return until.count === undefined || ++seen < until.count;
    });
  } finally {
    live.stop();
    process.removeListener('SIGINT', end);
    process.removeListener('SIGTERM', end);
    if (timer !== null) clearTimeout(timer);
    writer.close();
  }
  warn(countLine(writer.packets, `captured on ${interfaces.length} interface${interfaces.length === 1 ? '' : 's'}; tracing`));
}
