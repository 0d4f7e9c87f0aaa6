// The terminal UI's components under ink-testing-library: a store over a
// fixture, the App drawn at a fixed size, keys typed as a person would, the
// screen read back as the text it draws.

import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { afterEach } from 'vitest';
import { prepareDecode } from '../../src/pipeline.js';
import { App } from '../../src/tui/app.js';
import { IndexedCaptureFile } from '../../src/tui/capture-index.js';
import { TuiStore } from '../../src/tui/store.js';
import { FIXTURES } from '../helpers/tools.js';

export const KEYS = { enter: '\r', down: '\u001B[B', up: '\u001B[A', escape: '\u001B', end: '\u001B[F', tab: '\t' };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5000) throw new Error('timed out waiting for the screen');
    await pause(10);
  }
}

export interface Shown {
  screen: () => string;
  /** Each key (or typed text) written on its own, the screen as it is after the last. */
  press: (...keys: string[]) => Promise<string>;
}

export async function show(fixture: string, size = { width: 100, height: 30 }): Promise<Shown> {
  const store = TuiStore.forFile(new IndexedCaptureFile(path.join(FIXTURES, fixture)), { prepared: prepareDecode({}), filterText: '' });
  await until(() => !store.reading);
  const ui = render(<App store={store} width={size.width} height={size.height} />);
  cleanups.push(() => {
    ui.unmount();
    store.close();
  });
  const screen = (): string => ui.lastFrame() ?? '';
  const press = async (...keys: string[]): Promise<string> => {
    for (const key of keys) {
      ui.stdin.write(key);
      await settled();
    }
    return screen();
  };
  // A key is drawn a few turns of the event loop after it is typed, later on a busy machine: wait until no new frame comes.
  const settled = async (): Promise<void> => {
    let frames = ui.frames.length;
    // A key that changes nothing draws nothing: wait for a first new frame a while only.
    for (let waited = 0; ui.frames.length === frames && waited < 150; waited += 10) await pause(10);
    for (let waited = 0; ui.frames.length !== frames && waited < 2000; waited += 30) {
      frames = ui.frames.length;
      await pause(30);
    }
  };
  await until(() => screen().includes('Tunnels'));
  return { screen, press };
}

/** The screen once it shows `text`. */
export async function screenWith(shown: Shown, text: string | RegExp): Promise<string> {
  await until(() => (typeof text === 'string' ? shown.screen().includes(text) : text.test(shown.screen())));
  return shown.screen();
}

export function lineWith(screen: string, ...parts: string[]): string | undefined {
  return screen.split('\n').find((line) => parts.every((part) => line.includes(part)));
}
