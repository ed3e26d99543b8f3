import { useId } from 'preact/hooks';
import './when.css';
import { formatDateTime, relativeTime } from '../format.ts';

/**
 * A time in words ("5 minutes ago"), with the exact date and time in a tooltip that shows on hover
 * and on keyboard focus (and is the time's description for screen readers).
 */
export function When({ iso, now }: { iso: string; now: number }) {
  const id = useId();
  const exact = formatDateTime(iso);
  return (
    <span class="when">
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: keyboard users reach the exact time (the tooltip) by focus */}
      <time dateTime={iso} tabIndex={0} aria-describedby={id}>
        {relativeTime(iso, now)}
      </time>
      <span id={id} role="tooltip" class="when-tip">
        {exact}
      </span>
    </span>
  );
}
