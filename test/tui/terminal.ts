// A real terminal for the terminal UI's end-to-end tests: a shell in a tmux
// session of a fixed size, keys sent as a person types them, the screen read
// back with capture-pane. Each test file runs its own tmux server.

import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { PROJECT_ROOT, hasCommand } from '../helpers/tools.js';

export const haveTmux = hasCommand('tmux');

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Terminal {
  screen(withAttributes?: boolean): string;
  keys(...keys: string[]): void;
  type(text: string): void;
  waitFor(what: string | RegExp, timeoutMs?: number): Promise<string>;
  flag(name: string): string;
  resize(width: number, height: number): void;
  close(): void;
}

/** A tmux server of our own, so a test neither sees nor touches anyone else's sessions. */
export class TmuxServer {
  private readonly socket: string;

  constructor(name: string) {
    this.socket = `tunscope-${name}-${process.pid}`;
    // A session that outlives the tests' own, so the server does not exit (and race a new session) between them.
    this.tmux('new-session', '-d', '-s', 'keep', 'sh');
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** A shell in a session of the given size, in the project directory. */
  terminal(name: string, width: number, height: number): Terminal {
    this.tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), '-c', PROJECT_ROOT, 'sh');
    const target = `${name}:0.0`;
    const screen = (withAttributes = false): string =>
      this.tmux('capture-pane', '-p', ...(withAttributes ? ['-e'] : []), '-t', target);
    return {
      screen,
      keys: (...keys) => {
        this.tmux('send-keys', '-t', target, ...keys);
      },
      type: (text) => {
        this.tmux('send-keys', '-t', target, '-l', text);
      },
      async waitFor(what, timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const text = screen();
          if (typeof what === 'string' ? text.includes(what) : what.test(text)) return text;
          if (Date.now() > deadline) throw new Error(`the screen never showed ${what}; it shows:\n${text}`);
          await pause(50);
        }
      },
      flag: (flag) => this.tmux('display-message', '-p', '-t', target, `#{${flag}}`).trim(),
      resize: (w, h) => {
        this.tmux('resize-window', '-t', name, '-x', String(w), '-y', String(h));
      },
      close: () => {
        this.tmux('kill-session', '-t', name);
      },
    };
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
  }
}

/** The screen's lines (capture-pane ends the last one with a newline too). */
export function linesOf(screen: string): string[] {
  return screen.replace(/\n$/, '').split('\n');
}

/** What the shell runs after the UI, so the test can see how it ended and how the terminal was left. */
export const AFTERWARDS = `; echo "exit status $?"; stty -a | grep -o -- '-*icanon'`;

/** After the UI ends: its exit status printed, and the terminal as it was; `command` still on the main screen. */
export async function expectRestored(term: Terminal, command?: string): Promise<void> {
  const screen = await term.waitFor(/exit status \d+\n/);
  await term.waitFor(/^-*icanon$/m);
  expect(term.flag('alternate_on')).toBe('0');
  expect(term.flag('cursor_flag')).toBe('1');
  // The shell's line discipline is cooked again: canonical input, not -icanon.
  expect(term.screen()).toMatch(/^icanon$/m);
  // The main screen is back as it was: the command line, and none of the UI.
  if (command !== undefined) expect(screen).toContain(command);
  expect(screen).not.toContain('TUNNEL');
  expect(screen).not.toContain('OUTER SRC > DST');
}
