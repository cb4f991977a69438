/** Where a command writes, and what it may read of its surroundings: injected so tests run commands in-process. */
export interface CommandIO {
  stdout: (text: string) => void;
  /**
   * Resolves once stdout has taken what was written (a pipe read more slowly than a command writes
   * keeps the rest in memory): a long output written piece by piece waits on it. Absent: at once.
   */
  stdoutDrained?: () => Promise<void>;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export function processIO(): CommandIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stdoutDrained: () => whenDrained(process.stdout),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Resolves when `stream` has no write waiting (at once if none), or when it can take none any more. */
export function whenDrained(stream: NodeJS.WritableStream & { writableNeedDrain: boolean }): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      for (const e of ["drain", "close", "error"]) stream.off(e, done);
      resolve();
    };
    for (const e of ["drain", "close", "error"]) stream.on(e, done);
  });
}
