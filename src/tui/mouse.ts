// Mouse clicks. Ink reads keys only, so the terminal is asked to report the
// mouse as keys: xterm's button-event tracking (1000) in the SGR encoding
// (1006), which sends `ESC [ < button ; column ; line M` on a press and `m`
// on a release, with no limit on the column or line.

export const MOUSE_ON = '\u001B[?1000h\u001B[?1006h';
export const MOUSE_OFF = '\u001B[?1006l\u001B[?1000l';

export interface MouseEvent {
  kind: 'press' | 'release' | 'wheel-up' | 'wheel-down';
  /** 0 left, 1 middle, 2 right (presses and releases). */
  button: number;
  /** 0-based column and line of the screen. */
  x: number;
  y: number;
}

const SGR_MOUSE = /^\u001B?\[<(\d+);(\d+);(\d+)([Mm])$/;

/** The mouse event a key input stands for, or null when it is a key (Ink hands it over without its ESC). */
export function parseMouse(input: string): MouseEvent | null {
  const match = SGR_MOUSE.exec(input);
  if (match === null) return null;
  const code = Number(match[1]);
  const x = Number(match[2]) - 1;
  const y = Number(match[3]) - 1;
  const button = code & 3;
  if ((code & 64) !== 0) return { kind: button === 0 ? 'wheel-up' : 'wheel-down', button, x, y };
  return { kind: match[4] === 'M' ? 'press' : 'release', button, x, y };
}

/** The SGR report of a mouse event, as a terminal sends it (tests type it). */
export function mouseSequence(event: MouseEvent): string {
  const code = event.kind === 'wheel-up' ? 64 : event.kind === 'wheel-down' ? 65 : event.button;
  return `\u001B[<${code};${event.x + 1};${event.y + 1}${event.kind === 'release' ? 'm' : 'M'}`;
}
