import { api } from '../api.ts';
import { deviceName } from '../format.ts';
import { Link } from '../router.tsx';
import { ActivityFeed } from './activity-feed.tsx';
import type { PageProps } from './pages.ts';

const loadActivity = (cursor: string | null) => api.activity(cursor);

/** `/activity`: what happened on all the user's devices, newest first. */
export function ActivityPage({ devices }: PageProps) {
  const list = devices.data?.devices ?? [];
  const deviceLabel = (deviceId: string) => {
    const device = list.find((d) => d.deviceId === deviceId);
    return device ? deviceName(device) : 'A removed device';
  };
  return (
    <section aria-labelledby="activity-heading">
      <div class="page-header">
        <div>
          <h1 id="activity-heading">Activity</h1>
          <p class="muted page-subtitle">What happened on your devices, newest first.</p>
        </div>
      </div>
      <div class="card activity-card">
        <ActivityFeed
          load={loadActivity}
          feedKey="all"
          deviceLabel={deviceLabel}
          label="Activity on all devices"
        />
      </div>
      <p class="page-back">
        <Link href="/">Back to My devices</Link>
      </p>
    </section>
  );
}
