import { render, type Instance } from "ink";
import { Dashboard, type DashboardActions } from "./dashboard.tsx";
import type { NoticeStore } from "./notice-store.ts";
import type { StatusStore } from "./status-store.ts";

export interface RunDashboardOptions {
  store: StatusStore;
  /** `quit` is optional here: the dashboard unmounts itself, then calls it. */
  actions: Omit<DashboardActions, "quit"> & { quit?: () => void };
  notice?: NoticeStore;
  /** False under NO_COLOR (no-color.org). */
  color?: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/**
 * Shows the dashboard on the terminal until the user presses `q` (or Ctrl-C), then restores the
 * terminal and resolves. The caller makes sure stdout is a TTY and `CI` is unset, and keeps logs off it.
 */
export async function runDashboard({ store, actions, notice, color, stdout, stdin }: RunDashboardOptions): Promise<void> {
  let instance: Instance | undefined;
  const quit = () => instance?.unmount();
  instance = render(<Dashboard store={store} notice={notice} color={color} actions={{ reconcile: actions.reconcile, sendNow: actions.sendNow, release: actions.release, quit }} />, {
    // an explicit undefined would replace Ink's process.stdout/stdin defaults
    ...(stdout ? { stdout } : {}),
    ...(stdin ? { stdin } : {}),
    exitOnCtrlC: true,
    // cwsync never logs through console (pino goes to a file while the dashboard runs), and patching it breaks under test runners
    patchConsole: false,
  });
  await instance.waitUntilExit();
  actions.quit?.();
}
