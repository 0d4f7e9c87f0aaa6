// A hex and ASCII dump, 16 bytes a line, as `tcpdump -XX` prints it (a space
// is not graphic, so it is a dot too).

export function hexDump(bytes: Uint8Array, indent = '\t'): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, bytes.length));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i < row.length) {
        hex += row[i].toString(16).padStart(2, '0');
        ascii += row[i] > 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : '.';
      } else {
        hex += '  ';
      }
      if (i % 2 === 1) hex += ' ';
    }
    lines.push(`${indent}0x${at.toString(16).padStart(4, '0')}:  ${hex} ${ascii}`);
  }
  return lines.join('\n');
}
