/**
 * One hook for data from the API: load, reload, optional polling, exponential back-off after
 * errors, and no requests while the tab is hidden (it refreshes at once when the tab is shown again).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage } from './api.ts';

/** How long to wait before the next refresh; null: none. */
export type PollInterval = number | null;

export interface ResourceOptions<T> {
  /**
   * Refresh this often while the tab is visible; null or absent: load once (and on `reload`).
   * A function decides from the data just loaded (the server's states; undefined before the first
   * answer), so the next refresh is scheduled with the answer that came in, not the one before it.
   */
  intervalMs?: PollInterval | ((data: T | undefined) => PollInterval);
  /** Refresh when the tab becomes visible again even without polling (polling always does). */
  refreshOnVisible?: boolean;
  /** The longest wait between retries after errors (the wait doubles from `intervalMs`). */
  maxBackoffMs?: number;
  /** What is loaded (e.g. a page's device id): a new key loads afresh, dropping the old data. */
  key?: string;
}

export interface Resource<T> {
  /** The last data the server gave (kept while a refresh runs or fails). */
  data: T | undefined;
  /** The last load's error message, cleared by the next success. */
  error: string | null;
  /** A load is in flight. */
  loading: boolean;
  /** Loads now (and restarts polling from now). */
  reload: () => void;
  /** Shows data the server just answered (e.g. to a change) without asking again; polling goes on from now. */
  replace: (data: T) => void;
}

const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000;

function hidden(): boolean {
  return document.visibilityState === 'hidden';
}

/**
 * `load` is called on mount, on `reload`, every `intervalMs` while polling, and again after an
 * error: after `intervalMs`, then twice that, up to `maxBackoffMs` (or the server's Retry-After
 * when longer). Nothing is fetched while the tab is hidden.
 */
export function useResource<T>(load: () => Promise<T>, options: ResourceOptions<T> = {}): Resource<T> {
  const {
    intervalMs = null,
    refreshOnVisible = false,
    maxBackoffMs = DEFAULT_MAX_BACKOFF_MS,
    key = '',
  } = options;
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const generation = useRef(0);
  const failures = useRef(0);
  /** A timed refresh came due while the tab was hidden: run it when it is shown. */
  const due = useRef(false);
  const inFlight = useRef(false);
  const optionsRef = useRef({ intervalMs, maxBackoffMs });
  optionsRef.current = { intervalMs, maxBackoffMs };
  /** The interval for this data: what the options say now, not what they said at the last render. */
  const intervalFor = useCallback((data: T | undefined): PollInterval => {
    const every = optionsRef.current.intervalMs;
    return typeof every === 'function' ? every(data) : every;
  }, []);
  const dataRef = useRef<T | undefined>(undefined);
  dataRef.current = state.data;
  const runRef = useRef<() => void>(() => undefined);

  const schedule = useCallback((delay: number | null) => {
    clearTimeout(timer.current);
    timer.current = undefined;
    if (delay === null) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      if (hidden()) due.current = true;
      else runRef.current();
    }, delay);
  }, []);

  const run = useCallback(() => {
    const mine = ++generation.current;
    due.current = false;
    inFlight.current = true;
    clearTimeout(timer.current);
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    loadRef.current().then(
      (data) => {
        if (mine !== generation.current) return;
        inFlight.current = false;
        failures.current = 0;
        setState({ data, error: null, loading: false });
        schedule(intervalFor(data));
      },
      (error: unknown) => {
        if (mine !== generation.current) return;
        inFlight.current = false;
        failures.current += 1;
        setState((s) => ({ data: s.data, error: errorMessage(error), loading: false }));
        const every = intervalFor(dataRef.current);
        const max = optionsRef.current.maxBackoffMs;
        if (every === null) return;
        const backoff = Math.min(max, every * 2 ** failures.current);
        const retryAfter = error instanceof ApiError && error.retryAfter ? error.retryAfter * 1000 : 0;
        schedule(Math.max(backoff, retryAfter));
      },
    );
  }, [schedule, intervalFor]);
  runRef.current = run;

  // Load on mount and for each new key; stop everything on unmount.
  const shownKey = useRef(key);
  useEffect(() => {
    if (shownKey.current !== key) {
      shownKey.current = key;
      failures.current = 0;
      setState({ data: undefined, error: null, loading: true });
    }
    run();
    return () => {
      generation.current += 1;
      inFlight.current = false;
      clearTimeout(timer.current);
    };
  }, [run, key]);

  // Polling switched on or off (or its interval changed): restart the timer from now.
  const interval = intervalFor(state.data);
  useEffect(() => {
    if (interval === null) {
      schedule(null);
      return;
    }
    // A load in flight, or a retry after an error, schedules the next one itself.
    if (failures.current === 0 && !inFlight.current) schedule(interval);
  }, [interval, schedule]);

  useEffect(() => {
    const onVisibility = () => {
      if (hidden()) return;
      if (due.current || refreshOnVisible || intervalFor(dataRef.current) !== null) run();
    };
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, [refreshOnVisible, run, intervalFor]);

  const replace = useCallback(
    (data: T) => {
      // A load in flight would answer with what the server had before this change.
      generation.current += 1;
      inFlight.current = false;
      failures.current = 0;
      setState({ data, error: null, loading: false });
      schedule(intervalFor(data));
    },
    [schedule, intervalFor],
  );

  return { ...state, reload: run, replace };
}
