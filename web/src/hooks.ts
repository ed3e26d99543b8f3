import { useCallback, useEffect, useState } from 'preact/hooks';

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

/**
 * A wait the server asked for (429 Retry-After): `start(seconds)` begins it; `secondsLeft` counts
 * down to 0, ticking only while there is something to count.
 */
export function useCooldown(): { secondsLeft: number; start: (seconds: number | undefined) => void } {
  const [until, setUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until <= Date.now()) return;
    const id = setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= until) clearInterval(id);
    }, 250);
    return () => clearInterval(id);
  }, [until]);
  const start = useCallback((seconds: number | undefined) => {
    if (!seconds || seconds <= 0) return;
    const t = Date.now();
    setNow(t);
    setUntil(t + seconds * 1000);
  }, []);
  return { secondsLeft: until > now ? Math.ceil((until - now) / 1000) : 0, start };
}
