/** One line the dashboard shows above its key help, e.g. "daemon not answering — retrying"; undefined hides it. */
export interface NoticeStore {
  subscribe(listener: () => void): () => void;
  getSnapshot(): string | undefined;
  set(text: string | undefined): void;
}

export function createNoticeStore(): NoticeStore {
  const listeners = new Set<() => void>();
  let text: string | undefined;
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    getSnapshot: () => text,
    set(next) {
      if (next === text) return;
      text = next;
      for (const listener of [...listeners]) listener();
    },
  };
}
