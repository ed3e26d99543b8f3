import './activity-feed.css';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ActivityEvent, ActivityResponse } from '../../../functions/core/api-types.ts';
import { errorMessage } from '../api.ts';
import { useNow } from '../hooks.ts';
import { useResource } from '../resource.ts';
import { Link } from '../router.tsx';
import { Icon } from '../ui/icons.tsx';
import { When } from '../ui/when.tsx';
import { ACTOR_LABEL } from './device-words.ts';

interface ActivityFeedProps {
  /** One page of events, newest first; `cursor` null for the first page. */
  load: (cursor: string | null) => Promise<ActivityResponse>;
  /** What the feed is of (a device id, or "all"): a new key loads afresh. */
  feedKey: string;
  /** Changes when something happened that the feed should show (e.g. a command's state). */
  refreshKey?: string;
  /** Names the device of each event (the Activity page, across all devices). */
  deviceLabel?: (deviceId: string) => string;
  /** Accessible name of the list. */
  label: string;
}

const POLL_MS = 30_000;

/** A timeline of events, newest first, with "Show more" for older ones (the server's nextCursor). */
export function ActivityFeed({ load, feedKey, refreshKey, deviceLabel, label }: ActivityFeedProps) {
  const now = useNow(30_000);
  const loadRef = useRef(load);
  loadRef.current = load;
  const loadFirst = useCallback(() => loadRef.current(null), []);
  const first = useResource(loadFirst, { intervalMs: POLL_MS, key: feedKey });
  const [more, setMore] = useState<{ events: ActivityEvent[]; nextCursor: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);

  // A new feed drops the older pages; a refresh key change loads the first page again.
  useEffect(() => setMore(null), [feedKey]);
  const shownRefresh = useRef(refreshKey);
  useEffect(() => {
    if (shownRefresh.current === refreshKey) return;
    shownRefresh.current = refreshKey;
    first.reload();
  }, [refreshKey, first.reload]);

  const firstPage = first.data;
  if (!firstPage) {
    return first.error ? (
      <div class="notice notice-error" role="alert">
        <Icon name="alert" size={18} />
        <span>{first.error}</span>
        <button type="button" class="button button-small" onClick={first.reload}>
          Try again
        </button>
      </div>
    ) : (
      <p class="muted" role="status">
        Loading activity…
      </p>
    );
  }

  const seen = new Set<string>();
  const events = [...firstPage.events, ...(more?.events ?? [])].filter((e) => {
    if (seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
  const nextCursor = more ? more.nextCursor : firstPage.nextCursor;

  async function showMore() {
    if (!nextCursor) return;
    setBusy(true);
    setMoreError(null);
    try {
      const page = await loadRef.current(nextCursor);
      setMore((m) => ({ events: [...(m?.events ?? []), ...page.events], nextCursor: page.nextCursor }));
    } catch (error) {
      setMoreError(errorMessage(error));
    } finally {
      setBusy(false);
    }
  }

  if (events.length === 0) return <p class="muted">Nothing has happened yet.</p>;

  return (
    <div class="activity-feed">
      <ol class="activity-list" aria-label={label}>
        {events.map((event) => (
          <li
            key={event.id}
            class={`activity activity-${event.result.toLowerCase()}`}
            data-testid="activity-event"
          >
            <span class="activity-mark">
              <Icon name={event.result === 'SUCCESS' ? 'check' : 'alert'} size={16} />
            </span>
            <div class="activity-text">
              <p class="activity-summary">{event.summary}</p>
              <p class="activity-meta muted">
                <span>{ACTOR_LABEL[event.actor]}</span>
                {deviceLabel ? (
                  <>
                    {' · '}
                    <Link href={`/devices/${encodeURIComponent(event.deviceId)}`}>
                      {deviceLabel(event.deviceId)}
                    </Link>
                  </>
                ) : null}
                {' · '}
                <When iso={event.at} now={now} />
                {' · '}
                <span class={event.result === 'SUCCESS' ? 'outcome-ok' : 'outcome-failed'}>
                  {event.result === 'SUCCESS' ? 'Succeeded' : 'Failed'}
                </span>
              </p>
            </div>
          </li>
        ))}
      </ol>
      {moreError ? (
        <p class="field-error" role="alert">
          {moreError}
        </p>
      ) : null}
      {nextCursor ? (
        <button type="button" class="button" onClick={showMore} disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          Show more
        </button>
      ) : null}
    </div>
  );
}
