import { useEffect, useState } from 'preact/hooks';

/** The current time, updated every `intervalMs` while the component is mounted. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

/** Loads a module once on demand (code splitting without preact/compat); an Error when that failed. */
export function useLazy<T>(load: (() => Promise<T>) | null): T | Error | null {
  const [mod, setMod] = useState<T | Error | null>(null);
  useEffect(() => {
    if (!load || (mod && !(mod instanceof Error))) return;
    let live = true;
    load().then(
      (m) => {
        if (live) setMod(() => m);
      },
      () => {
        if (live)
          setMod(
            new Error('This part of the portal could not be loaded. Check your connection and try again.'),
          );
      },
    );
    return () => {
      live = false;
    };
  }, [load]);
  return mod;
}
