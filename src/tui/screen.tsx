// Running the terminal UI on the real terminal: the alternate screen and
// mouse reporting while it runs, and the terminal as it was afterwards,
// however the process ends (q, Ctrl-C, a signal, an uncaught error).

import { render } from 'ink';
import { App } from './app.js';
import { MOUSE_OFF, MOUSE_ON } from './mouse.js';
import type { TuiStore } from './store.js';

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Show the store until the user quits; the terminal is restored before this resolves. */
export async function showTerminalUi(store: TuiStore): Promise<void> {
  const stdout = process.stdout;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    stdout.write(MOUSE_OFF + SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    store.close();
    instance.unmount();
    restore();
    process.exit(SIGNAL_EXIT_CODES[signal] ?? 1);
  };
  stdout.write(ENTER_ALTERNATE_SCREEN + MOUSE_ON);
  process.on('exit', restore);
  const instance = render(<App store={store} />, { exitOnCtrlC: true, patchConsole: true });
  for (const signal of Object.keys(SIGNAL_EXIT_CODES)) process.on(signal, onSignal);
  try {
    await instance.waitUntilExit();
  } finally {
    for (const signal of Object.keys(SIGNAL_EXIT_CODES)) process.off(signal, onSignal);
    store.close();
    restore();
    process.off('exit', restore);
  }
}
